/**
 * A Wing & Gong linearizability checker with Lowe's memoization, over one register per key
 * (P-compositionality: a key-value history is linearizable iff each key's sub-history is).
 *
 * Search: repeatedly pick a "minimal" pending operation (one invoked before every pending
 * operation completed), apply it to the model, and check its result; backtrack on mismatch.
 * Configurations (set of linearized operations, model state) already explored are cached.
 */
import { type HistoryEntry, step } from "./history.js";

export interface Verdict {
  ok: boolean;
  /** For a failure: the key and the operations of the smallest window that cannot be ordered. */
  key?: string;
  explanation?: string;
  /** True when the search hit its budget: no verdict either way. */
  gaveUp?: boolean;
}

function sameResult(a: unknown, b: unknown): boolean {
  return a === b;
}

export function checkRegister(
  history: readonly HistoryEntry[],
  budget = 2_000_000,
): { ok: boolean; gaveUp?: boolean } {
  // Operations with an unknown outcome and no effect possible on reads can be ignored: a get whose
  // answer never came tells nothing.
  const ops = history.filter((h) => !(h.op.kind === "get" && h.result === undefined));
  const n = ops.length;
  if (n === 0) return { ok: true };
  const sorted = [...ops].sort((a, b) => a.invoke - b.invoke);
  const done = new Uint8Array(n);
  const memo = new Set<string>();
  let explored = 0;
  const mustFinish = sorted.filter((op) => op.complete !== Number.POSITIVE_INFINITY).length;
  const search = (state: string | null, linearized: number, finished: number): boolean => {
    if (finished === mustFinish) return true;
    if (++explored > budget) throw new GaveUp();
    const key = `${Array.from(done).join("")}|${state}`;
    if (memo.has(key)) return false;
    memo.add(key);
    // The earliest completion among pending ops bounds which ops may go next.
    let horizon = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) if (!done[i] && sorted[i]!.complete < horizon) horizon = sorted[i]!.complete;
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const op = sorted[i]!;
      if (op.invoke > horizon) break;
      const next = step(state, op.op);
      if (op.result !== undefined && !sameResult(next.result, op.result)) continue;
      done[i] = 1;
      const finishedNow = finished + (op.complete !== Number.POSITIVE_INFINITY ? 1 : 0);
      if (search(next.state, linearized + 1, finishedNow)) return true;
      done[i] = 0;
    }
    return false;
  };
  try {
    return { ok: search(null, 0, 0) };
  } catch (error) {
    if (error instanceof GaveUp) return { ok: true, gaveUp: true };
    throw error;
  }
}

class GaveUp extends Error {}

function describe(op: HistoryEntry): string {
  const o = op.op;
  const what =
    o.kind === "put"
      ? `put(${o.key}, ${o.value})`
      : o.kind === "get"
        ? `get(${o.key})`
        : `cas(${o.key}, ${o.expected} -> ${o.value})`;
  const end = op.complete === Number.POSITIVE_INFINITY ? "?" : String(op.complete);
  return `#${op.id} ${op.client} ${what} = ${op.result === undefined ? "unknown" : JSON.stringify(op.result)} [${op.invoke}, ${end}]`;
}

/** Check a key-value history; on failure, name the key and a small window that fails. */
export function checkHistory(history: readonly HistoryEntry[]): Verdict {
  const byKey = new Map<string, HistoryEntry[]>();
  for (const entry of history) {
    const list = byKey.get(entry.op.key) ?? [];
    list.push(entry);
    byKey.set(entry.op.key, list);
  }
  let gaveUp = false;
  for (const [key, ops] of byKey) {
    const verdict = checkRegister(ops);
    if (verdict.gaveUp) gaveUp = true;
    if (verdict.ok) continue;
    // Shrink: the shortest prefix (by completion order) that already fails.
    const ordered = [...ops].sort((a, b) => a.complete - b.complete);
    let window = ordered;
    for (let end = 1; end <= ordered.length; end++) {
      const prefix = ordered.slice(0, end);
      const cut = prefix[prefix.length - 1]!.complete;
      const candidate = ops.filter(
        (op) => op.invoke <= cut && (op.complete <= cut || op.result === undefined),
      );
      if (!checkRegister(candidate).ok) {
        window = candidate;
        break;
      }
    }
    return {
      ok: false,
      key,
      explanation: `key ${key}: no order of these operations is consistent with a single register:\n  ${window
        .sort((a, b) => a.invoke - b.invoke)
        .slice(-12)
        .map(describe)
        .join("\n  ")}`,
    };
  }
  return gaveUp ? { ok: true, gaveUp: true } : { ok: true };
}
