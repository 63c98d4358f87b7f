import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openNode } from "../../daemon.js";
import { runMetadataStoreContractTests } from "../store.contract.js";
import { EmbeddedMetadataStore } from "./embedded-store.js";

function openEmbedded(dir = mkdtempSync(join(tmpdir(), "cfg-meta-"))) {
  const node = openNode(dir);
  const store = new EmbeddedMetadataStore(node.log, node.machine.store.db);
  return { dir, node, store };
}

runMetadataStoreContractTests("EmbeddedMetadataStore", async () => {
  const { dir, node, store } = openEmbedded();
  return {
    store,
    dispose: async () => {
      await store.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("EmbeddedMetadataStore", () => {
  it("replays metadata from the log into state.db after a restart", async () => {
    const first = openEmbedded();
    try {
      await first.store.rotateSigningKey({
        id: "s1",
        secret: "x",
        createdAt: "2026-01-01T00:00:00.000Z",
        retiredAt: null,
      });
      await first.node.close();
      const second = openEmbedded(first.dir);
      expect((await second.store.listSigningKeys()).map((k) => k.id)).toEqual(["s1"]);
      await second.node.close();
    } finally {
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
