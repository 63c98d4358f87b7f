import { describe, expect, it } from "vitest";
import { pathParams } from "./auth.js";

describe("pathParams: the matched route's parameters, read from the path", () => {
  it("reads each :name, and a last :name{.+} takes the rest of the path", () => {
    expect(
      pathParams("/v1/projects/:project/configs/:key{.+}", "/v1/projects/shop/configs/services/api"),
    ).toEqual({ project: "shop", key: "services/api" });
    expect(pathParams("/v1/projects/:project/members/:userId", "/v1/projects/shop/members/u-1")).toEqual({
      project: "shop",
      userId: "u-1",
    });
  });

  it("percent-decodes values and leaves out what does not decode", () => {
    expect(pathParams("/v1/users/:id", "/v1/users/a%40b").id).toBe("a@b");
    expect(pathParams("/v1/users/:id", "/v1/users/%E0%A4%A").id).toBeUndefined();
    expect(pathParams("/v1/users/:id", "/v1/users/x").project).toBeUndefined();
  });
});
