import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from "node:http";

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
  /** Pending headers as name, value pairs in one list; their lower-cased names beside. */
  private pending: (string | number)[] | null = null;
  private pendingNames: string[] | null = null;

  /** Set a header of the answer (before it is written), replacing one of the same name. */
  add(name: string, value: string): void {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    const lower = name.toLowerCase();
    if (this.pending === null || this.pendingNames === null) {
      this.pending = [name, value];
      this.pendingNames = [lower];
      return;
    }
    const at = this.pendingNames.indexOf(lower);
    if (at >= 0) {
      this.pending[2 * at] = name;
      this.pending[2 * at + 1] = value;
    } else {
      this.pending.push(name, value);
      this.pendingNames.push(lower);
    }
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
    this.pending = pairs.slice();
    this.pendingNames = names.slice();
  }

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const pending = this.pending;
    const names = this.pendingNames;
    if (pending === null || names === null) return super.writeHead(statusCode, reason as string, headers);
    this.pending = null;
    this.pendingNames = null;
    const message = typeof reason === "string" ? reason : undefined;
    const given = typeof reason === "string" ? headers : reason;
    if (this.getHeaderNames().length > 0 || Array.isArray(given)) {
      // Headers set with setHeader itself, or writeHead's as a list: node:http merges them; ours
      // go in first, as if set with setHeader before.
      for (let i = 0; i < pending.length; i += 2) this.setHeader(pending[i] as string, pending[i + 1]!);
      return super.writeHead(statusCode, message, given);
    }
    if (given)
      for (const name in given) {
        const value = given[name] as string;
        const lower = name.toLowerCase();
        const at = names.indexOf(lower);
        if (at < 0) {
          pending.push(name, value);
          names.push(lower);
        } else {
          pending[2 * at] = name;
          pending[2 * at + 1] = value;
        }
      }
    // A list of pairs is validated by node:http as it writes the header block.
    return super.writeHead(statusCode, message, pending as OutgoingHttpHeader[]);
  }
}
