import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { StateStore } from "./state-store.js";

describe("StateStore.schemaSetAt", () => {
  it("parses each distinct schema set once and shares it frozen", () => {
    const store = new StateStore(new Database(":memory:"));
    store.insertProject("shop", "2026-01-01T00:00:00.000Z");
    const set = [{ name: "s", match: "*", schema: { type: "object", required: ["n"] } }];
    store.setSchemaSet("shop", 1, set);
    store.setSchemaSet("shop", 3, [{ ...set[0]!, match: "app/*" }]);
    const first = store.schemaSetAt("shop", 1);
    const again = store.schemaSetAt("shop", 2);
    expect(first).toEqual({ revision: 1, schemas: set });
    expect(again.revision).toBe(1);
    expect(again.schemas).toBe(first.schemas);
    expect(store.schemaSetAt("shop", 3).schemas).not.toBe(first.schemas);
    expect(store.schemaSetAt("shop", 3).schemas[0]!.match).toBe("app/*");
    expect(() => {
      (first.schemas[0]!.schema as { required: string[] }).required.push("m");
    }).toThrow(TypeError);
    expect(store.schemaSetAt("shop", 0)).toEqual({ revision: 0, schemas: [] });
  });
});
