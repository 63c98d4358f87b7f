import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from "node:http";

/** Headers waiting for writeHead: [name, value, ...], and their lower-cased names. */
interface Pending {
  pairs: OutgoingHttpHeader[];
  names: string[];
}

/**
 * cfgd's answer object (node:http's `ServerResponse` server option). The headers cfgd sets on an
 * answer (response.ts: the request id, the security headers, ETag...) wait in a flat list and go
 * out with the ones @hono/node-server passes to writeHead, in one writeHead(status, [name, value,
 * ...]). node:http's own setHeader keeps each header in a map under its lower-cased name, and
 * writeHead then merges its own headers into that map one at a time before the header block is
 * written: for the 16 headers of a small answer, 7.3 µs against 2.9 µs this way (writeHead alone,
 * measured in a loop on this machine), and most of the allocation of an answer.
 *
 * The headers set here are validated when set, as setHeader does, and a later one of the same
 * name (in any case) replaces an earlier one, as does one passed to writeHead. They are not seen
 * by getHeader(): nothing in cfgd reads an answer's headers back.
 */
export class CfgResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Pending headers as name, value pairs in one list, their lower-cased names beside. */
  private pending: Pending | null = null;

  /** Set a header of the answer (before it is written), replacing one of the same name. */
  add(name: string, value: string): void {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    this.pending ??= { pairs: [], names: [] };
    setPair(this.pending, name, name.toLowerCase(), value);
  }

  /**
   * Several headers at once, known to be valid and of distinct names, set before any other (the
   * security headers of every answer): `pairs` is [name, value, ...] and `names` its lower-cased
   * names.
   */
  addFirst(pairs: readonly string[], names: readonly string[]): void {
    if (this.pending !== null) {
      for (let i = 0; i < names.length; i++) this.add(pairs[2 * i]!, pairs[2 * i + 1]!);
      return;
    }
    this.pending = { pairs: pairs.slice(), names: names.slice() };
  }

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const pending = this.pending;
    if (pending === null) return super.writeHead(statusCode, reason as string, headers);
    this.pending = null;
    const message = typeof reason === "string" ? reason : undefined;
    const given = typeof reason === "string" ? headers : reason;
    if (this.getHeaderNames().length > 0 || Array.isArray(given)) {
      // Headers set with setHeader itself, or writeHead's as a list: node:http merges them; ours
      // go in first, as if set with setHeader before.
      const { pairs } = pending;
      for (let i = 0; i < pairs.length; i += 2) this.setHeader(pairs[i] as string, pairs[i + 1]!);
      return super.writeHead(statusCode, message, given);
    }
    if (given) for (const name in given) setPair(pending, name, name.toLowerCase(), given[name]!);
    // A list of pairs is validated by node:http as it writes the header block.
    return super.writeHead(statusCode, message, pending.pairs);
  }
}

/** Put a header in the pending list, in place of one of the same (lower-cased) name. */
function setPair(pending: Pending, name: string, lower: string, value: OutgoingHttpHeader): void {
  const at = pending.names.indexOf(lower);
  if (at >= 0) {
    pending.pairs[2 * at] = name;
    pending.pairs[2 * at + 1] = value;
  } else {
    pending.pairs.push(name, value);
    pending.names.push(lower);
  }
}
