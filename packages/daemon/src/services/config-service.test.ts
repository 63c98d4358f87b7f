import type { ConfigEntry } from "@cfguardian/shared";
import { describe, expect, it } from "vitest";
import { entryJson } from "./config-service.js";

describe("entryJson", () => {
  // Every field of ConfigEntry (satisfies: a field added there and not here fails the type check).
  it("is the JSON of the key's entry, its value as stored", () => {
    const row = {
      key: 'app/"quoted"\\key',
      value: '{"a":[1,{"b":null}],"z":"\\u00e9\\n"}',
      sha256: "ab".repeat(32),
      version: 3,
      mod_revision: 7,
      updated_at: "2026-12-03T10:00:00.000Z",
    };
    expect(JSON.parse(entryJson(row, 9))).toEqual({
      key: 'app/"quoted"\\key',
      value: { a: [1, { b: null }], z: "é\n" },
      version: 3,
      revision: 9,
      modRevision: 7,
      sha256: "ab".repeat(32),
      updatedAt: "2026-12-03T10:00:00.000Z",
    } satisfies ConfigEntry);
  });
});
