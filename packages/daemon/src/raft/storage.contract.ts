/**
 * One behaviour suite for every WritableStorage: MemoryStorage here, the SQLite adapter in
 * storage/. A storage that passes it can sit under the core.
 */
import { describe, expect, it } from "vitest";
import { CompactedError, UnavailableError } from "./errors.js";
import type { WritableStorage } from "./storage.js";
import type { Entry } from "./types.js";

const e = (index: number, term: number, data = `d${index}`): Entry => ({ index, term, type: "normal", data });

export function runStorageContractTests(name: string, make: (voters: string[]) => WritableStorage): void {
  describe(`${name} (Storage contract)`, () => {
    it("starts empty with the bootstrap configuration", () => {
      const s = make(["a", "b", "c"]);
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(0);
      expect(s.term(0)).toBe(0);
      expect(s.initialState()).toEqual({
        hardState: { term: 0, vote: null, commit: 0 },
        confState: { voters: ["a", "b", "c"], learners: [] },
      });
    });

    it("appends, reads ranges with a size limit, and truncates a conflicting suffix", () => {
      const s = make(["a"]);
      s.append([e(1, 1), e(2, 1), e(3, 2)]);
      expect(s.lastIndex()).toBe(3);
      expect(s.entries(1, 4)).toEqual([e(1, 1), e(2, 1), e(3, 2)]);
      expect(s.entries(1, 4, 1)).toEqual([e(1, 1)]);
      expect(s.entries(2, 4, 4)).toEqual([e(2, 1), e(3, 2)]);
      s.append([e(2, 3, "x")]);
      expect(s.lastIndex()).toBe(2);
      expect(s.entries(1, 3)).toEqual([e(1, 1), e(2, 3, "x")]);
      expect(s.term(2)).toBe(3);
      expect(() => s.term(5)).toThrow(UnavailableError);
      expect(() => s.entries(1, 9)).toThrow(UnavailableError);
    });

    it("keeps the hard state", () => {
      const s = make(["a"]);
      s.setHardState({ term: 4, vote: "b", commit: 0 });
      expect(s.initialState().hardState).toEqual({ term: 4, vote: "b", commit: 0 });
    });

    it("creates a snapshot, compacts behind it, and reports compaction", () => {
      const s = make(["a"]);
      s.append([e(1, 1), e(2, 1), e(3, 2), e(4, 2)]);
      const snap = s.createSnapshot(3, { voters: ["a", "b"], learners: ["c"] }, "image");
      expect(snap.meta).toEqual({ index: 3, term: 2, confState: { voters: ["a", "b"], learners: ["c"] } });
      s.compact(3);
      expect(s.firstIndex()).toBe(4);
      expect(s.term(3)).toBe(2);
      expect(() => s.term(2)).toThrow(CompactedError);
      expect(() => s.entries(2, 4)).toThrow(CompactedError);
      expect(s.entries(4, 5)).toEqual([e(4, 2)]);
      expect(s.snapshot()).toEqual(snap);
      expect(s.initialState().confState).toEqual({ voters: ["a", "b"], learners: ["c"] });
    });

    it("can keep trailing entries behind a snapshot, for followers that are only a little behind", () => {
      const s = make(["a"]);
      s.append([e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 2)]);
      s.createSnapshot(4, { voters: ["a"], learners: [] }, "image");
      s.compact(2);
      expect(s.firstIndex()).toBe(3);
      expect(s.entries(3, 6)).toEqual([e(3, 2), e(4, 2), e(5, 2)]);
      expect(s.term(2)).toBe(1);
      expect(s.snapshot().meta.index).toBe(4);
    });

    it("replaces everything with a newer snapshot from the leader", () => {
      const s = make(["a"]);
      s.append([e(1, 1), e(2, 1)]);
      s.applySnapshot({
        meta: { index: 10, term: 3, confState: { voters: ["a"], learners: [] } },
        data: "img",
      });
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(10);
      expect(s.term(10)).toBe(3);
      s.append([e(11, 3)]);
      expect(s.entries(11, 12)).toEqual([e(11, 3)]);
      // An older snapshot changes nothing.
      s.applySnapshot({
        meta: { index: 5, term: 2, confState: { voters: ["a"], learners: [] } },
        data: "old",
      });
      expect(s.snapshot().meta.index).toBe(10);
    });
  });
}
