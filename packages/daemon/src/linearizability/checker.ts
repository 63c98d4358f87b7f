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
  // A get whose answer never came tells nothing: leave it out.
  const ops = history.filter((h) => !(h.op.kind === "get" && h.result === undefined));
  const n = ops.length;
  if (n === 0) return { ok: true };
  const sorted = [...ops].sort((a, b) => a.invoke - b.invoke);
  const done = new Uint8Array(n);
  // Zobrist hashing of the set of linearized operations: two random 32-bit words per operation,
  // XORed in and out, so a configuration's memo key costs O(1) instead of O(n).
  let seed = 0x2545f491;
  const next32 = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const zobristA = Uint32Array.from({ length: n }, next32);
  const zobristB = Uint32Array.from({ length: n }, next32);
  let hashA = 0;
  let hashB = 0;
  const memo = new Set<string>();
  let explored = 0;
  const mustFinish = sorted.filter((op) => op.complete !== Number.POSITIVE_INFINITY).length;
  if (mustFinish === 0) return { ok: true };

  interface Frame {
    state: string | null;
    finished: number;
    first: number;
    horizon: number;
    /** Next candidate index to try. */
    next: number;
    /** The operation that led here (undone when the frame is left), -1 at the root. */
    via: number;
  }
  const frame = (state: string | null, finished: number, from: number, via: number): Frame => {
    let first = from;
    while (first < n && done[first]) first++;
    // Candidates: pending operations invoked before every pending operation completed. Scanning in
    // invoke order, the running minimum of completions bounds the scan (later ops start after it).
    let horizon = Number.POSITIVE_INFINITY;
    for (let i = first; i < n; i++) {
      const op = sorted[i]!;
      if (op.invoke > horizon) break;
      if (!done[i] && op.complete < horizon) horizon = op.complete;
    }
    return { state, finished, first, horizon, next: first, via };
  };
  const toggle = (i: number) => {
    done[i] = done[i] ? 0 : 1;
    hashA ^= zobristA[i]!;
    hashB ^= zobristB[i]!;
  };
  // NB: an explicit stack, not recursion: a long history would overflow the call stack.
  const stack: Frame[] = [frame(null, 0, 0, -1)];
  memo.add(`${hashA},${hashB},null`);
  try {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      let chosen = -1;
      let stepped: ReturnType<typeof step> | undefined;
      for (let i = top.next; i < n; i++) {
        if (done[i]) continue;
        const op = sorted[i]!;
        if (op.invoke > top.horizon) break;
        const attempt = step(top.state, op.op);
        if (op.result !== undefined && !sameResult(attempt.result, op.result)) continue;
        chosen = i;
        stepped = attempt;
        break;
      }
      if (chosen < 0) {
        stack.pop();
        if (top.via >= 0) toggle(top.via);
        continue;
      }
      top.next = chosen + 1;
      if (++explored > budget) throw new GaveUp();
      toggle(chosen);
      const op = sorted[chosen]!;
      const finished = top.finished + (op.complete !== Number.POSITIVE_INFINITY ? 1 : 0);
      if (finished === mustFinish) return { ok: true };
      const key = `${hashA},${hashB},${stepped!.state}`;
      if (memo.has(key)) {
        toggle(chosen);
        continue;
      }
      memo.add(key);
      stack.push(frame(stepped!.state, finished, top.first, chosen));
    }
    return { ok: false };
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
