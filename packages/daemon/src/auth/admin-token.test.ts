import { describe, expect, it } from "vitest";
import { AdminTokenAuthenticator, clusterAdminToken } from "./admin-token.js";

describe("AdminTokenAuthenticator", () => {
  const token = clusterAdminToken("a-cluster-secret-of-enough-length");
  const auth = new AdminTokenAuthenticator(token);

  it("takes the token and nothing else, whatever the length or the characters of a guess", () => {
    expect(auth.authenticate(token)).toEqual({ subject: "admin", admin: true, kind: "admin-token" });
    const last = token.at(-1) === "A" ? "B" : "A";
    for (const guess of [
      `${token.slice(0, -1)}${last}`, // same length, one character off
      token.slice(0, -1),
      `${token}x`,
      "",
      `${token.slice(0, -1)}é`, // as many characters, one byte more
      "x".repeat(5000),
    ]) {
      expect(auth.authenticate(guess), guess).toBeNull();
    }
  });
});
