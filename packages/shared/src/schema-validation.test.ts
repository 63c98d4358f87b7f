import { describe, expect, it } from "vitest";
import { checkSchemaSet, compileSchemaSet } from "./schema-validation.js";

const service = {
  name: "service",
  match: "services/**",
  schema: {
    type: "object",
    required: ["port", "image"],
    properties: { port: { type: "integer", minimum: 1, maximum: 65535 }, image: { type: "string" } },
  },
};

describe("schema sets", () => {
  it("lists every violation with its JSON pointer", () => {
    const set = compileSchemaSet([service]);
    const issues = set.validate("services/api", { port: "8080" });
    expect(issues).toEqual([
      {
        key: "services/api",
        pointer: "/image",
        message: 'missing required property "image"',
        schema: "service",
      },
      { key: "services/api", pointer: "/port", message: "must be integer", schema: "service" },
    ]);
    expect(set.validate("services/api", { port: 8080, image: "x" })).toEqual([]);
    expect(set.validate("features/flags", { port: "x" })).toEqual([]);
    expect(set.schemasFor("services/a/b")).toEqual(["service"]);
  });
  it("reports invalid schemas, names and globs", () => {
    const issues = checkSchemaSet([
      { name: "Bad Name", match: "/abs", schema: { type: "nope" } },
      service,
      service,
    ]);
    expect(issues.map((i) => i.message)).toEqual([
      expect.stringMatching(/invalid schema name/),
      expect.stringMatching(/must be relative/),
      expect.stringMatching(/invalid JSON Schema/),
      "schema service is defined twice",
    ]);
  });
});
