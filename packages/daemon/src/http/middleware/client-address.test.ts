import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  addressMac,
  CLIENT_ADDRESS_HEADER,
  CLIENT_ADDRESS_MAC_HEADER,
  clientAddress,
  clientAddresses,
} from "./client-address.js";

const SECRET = "s".repeat(16);
const app = new Hono().use(clientAddresses(SECRET)).get("/", (c) => c.json({ address: clientAddress(c) }));
const ask = async (headers: Record<string, string>) =>
  ((await (await app.request("/", { headers })).json()) as { address: string | null }).address;

describe("the caller's address", () => {
  it("is the one a member forwarded with the cluster secret's MAC", async () => {
    expect(
      await ask({
        [CLIENT_ADDRESS_HEADER]: "10.1.2.3",
        [CLIENT_ADDRESS_MAC_HEADER]: addressMac(SECRET, "10.1.2.3"),
      }),
    ).toBe("10.1.2.3");
  });

  it("is never one a client claims without it", async () => {
    expect(await ask({ [CLIENT_ADDRESS_HEADER]: "10.1.2.3" })).toBeNull();
    expect(
      await ask({
        [CLIENT_ADDRESS_HEADER]: "10.1.2.3",
        [CLIENT_ADDRESS_MAC_HEADER]: addressMac("another secret!!", "10.1.2.3"),
      }),
    ).toBeNull();
    expect(
      await ask({
        [CLIENT_ADDRESS_HEADER]: "10.9.9.9",
        [CLIENT_ADDRESS_MAC_HEADER]: addressMac(SECRET, "10.1.2.3"),
      }),
    ).toBeNull();
  });
});
