import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { runMetadataStoreContractTests } from "../store.contract.js";
import { PostgresMetadataStore } from "./postgres-store.js";

const url = process.env.CFG_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schemaName = () => `cfg_test_${randomBytes(6).toString("hex")}`;

async function openStore(schema = schemaName()) {
  const store = new PostgresMetadataStore({ url, schema, max: 4 });
  await store.open();
  return store;
}

runMetadataStoreContractTests("PostgresMetadataStore", async () => {
  const store = await openStore();
  return {
    store,
    dispose: async () => {
      await store.dropSchema();
      await store.close();
    },
  };
});

describe("PostgresMetadataStore migrations and outages", () => {
  it("applies each migration once when several nodes start at the same time", async () => {
    const schema = schemaName();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(schema)));
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query(`SELECT version FROM ${schema}.schema_migrations`);
      await client.end();
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await stores[0]!.dropSchema();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("answers unavailable when the server cannot be reached", async () => {
    const store = new PostgresMetadataStore({
      url: "postgres://postgres@127.0.0.1:1/none",
      schema: schemaName(),
    });
    await expect(store.listUsers()).rejects.toMatchObject({ code: "unavailable" });
    await store.close();
  });
});
