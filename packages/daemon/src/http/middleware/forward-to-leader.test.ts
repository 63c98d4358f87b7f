import { describe, expect, it } from "vitest";
import { isConfigWrite } from "./forward-to-leader.js";

describe("which writes a follower takes itself (isConfigWrite)", () => {
  it("takes key writes, pushes and rollbacks", () => {
    expect(isConfigWrite("PUT", "/v1/projects/shop/configs/app/db")).toBe(true);
    expect(isConfigWrite("DELETE", "/v1/projects/shop/configs/a")).toBe(true);
    expect(isConfigWrite("POST", "/v1/projects/shop/pushes")).toBe(true);
    expect(isConfigWrite("POST", "/v1/projects/shop/rollback")).toBe(true);
  });

  it("sends every other write on to the leader", () => {
    expect(isConfigWrite("POST", "/v1/projects/shop/configs/a")).toBe(false);
    expect(isConfigWrite("PUT", "/v1/projects/shop/pushes")).toBe(false);
    expect(isConfigWrite("GET", "/v1/projects/shop/configs/a")).toBe(false);
    expect(isConfigWrite("POST", "/v1/projects")).toBe(false);
    expect(isConfigWrite("DELETE", "/v1/projects/shop")).toBe(false);
    expect(isConfigWrite("PUT", "/v1/projects/shop/schemas/app")).toBe(false);
    expect(isConfigWrite("POST", "/v1/projects/shop/api-keys")).toBe(false);
    expect(isConfigWrite("PUT", "/v1/projects/shop/configs/")).toBe(false);
  });
});
