/**
 * The wire format of a Raft stream between two nodes: frames of a 4-byte big-endian length, then
 * the UTF-8 JSON of a Message[]. One frame carries what one turn of the event loop sent to a peer.
 */
import type { Entry, Message } from "../raft/types.js";

/** A frame holds at most this much JSON unless one message alone is larger. */
export const FRAME_TARGET_BYTES = 4 * 1024 * 1024;
/** Larger frames are refused: no message the core sends comes near (maxSizePerMsg is 1 MiB). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** One frame of `messages`. */
export function encodeFrame(messages: readonly Message[]): Buffer {
  return frameOf(JSON.stringify(messages));
}

function frameOf(json: string): Buffer {
  const length = Buffer.byteLength(json, "utf8");
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4, "utf8");
  return frame;
}

/**
 * One frame of JSON written in pieces, straight into the frame (`bytes`: their UTF-8 length in
 * all): joined into one string first, the JSON was copied twice more (the join, then flattening
 * it to count its bytes), 4% of what a leader allocated under writes.
 */
function frameOfPieces(pieces: readonly string[], bytes: number): Buffer {
  const length = bytes + 2; // and the brackets
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  let at = 4;
  frame[at++] = 0x5b; // [
  for (const piece of pieces) at += frame.write(piece, at, "utf8");
  frame[at] = 0x5d; // ]
  return frame;
}

/**
 * The JSON of runs of entries (and its UTF-8 length), by their first entry: what the leader sends
 * to one follower it sends to the others alike, and a run is encoded once for all of them.
 */
export type EncodedEntries = Map<Entry, { last: Entry; count: number; json: string; bytes: number }>;

/**
 * A message's JSON as pieces (its UTF-8 length returned). With `encoded`, its entries' JSON is
 * taken from there when another peer's message had the same run, and put there when not; their
 * key goes last.
 */
function messagePieces(message: Message, pieces: string[], encoded?: EncodedEntries): number {
  const entries = (message as { entries?: Entry[] }).entries;
  if (!encoded || !entries || entries.length === 0) {
    const json = JSON.stringify(message);
    pieces.push(json);
    return Buffer.byteLength(json, "utf8");
  }
  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  let run = encoded.get(first);
  if (!run || run.last !== last || run.count !== entries.length) {
    const json = JSON.stringify(entries);
    run = { last, count: entries.length, json, bytes: Buffer.byteLength(json, "utf8") };
    encoded.set(first, run);
  }
  const { entries: _, ...rest } = message as Message & { entries: Entry[] };
  const head = `${JSON.stringify(rest).slice(0, -1)},"entries":`;
  pieces.push(head, run.json, "}");
  return Buffer.byteLength(head, "utf8") + run.bytes + 1;
}

/**
 * `messages` as frames of about FRAME_TARGET_BYTES each, in order. `encoded`: entries' JSON
 * shared by the calls of one send to several peers (see messagePieces).
 */
export function encodeFrames(messages: readonly Message[], encoded?: EncodedEntries): Buffer[] {
  const frames: Buffer[] = [];
  let pieces: string[] = [];
  let size = 0;
  for (const message of messages) {
    const mark = pieces.length;
    if (mark > 0) pieces.push(",");
    const n = messagePieces(message, pieces, encoded);
    if (mark > 0 && size + 1 + n > FRAME_TARGET_BYTES) {
      // This message starts the next frame.
      const next = pieces.splice(mark);
      next.shift(); // its comma
      frames.push(frameOfPieces(pieces, size));
      pieces = next;
      size = n;
    } else size += (mark > 0 ? 1 : 0) + n;
  }
  if (pieces.length > 0) frames.push(frameOfPieces(pieces, size));
  return frames;
}

/**
 * Splits a byte stream back into frames. Chunks are kept as they come and joined only once a
 * whole frame is there, so a large frame arriving in many chunks is copied once, not once per chunk.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Take a chunk; returns the messages of every frame it completes. Throws on a bad frame. */
  push(chunk: Buffer): Message[][] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Message[][] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) throw new FrameError(`a frame of ${length} bytes is too large`);
      if (this.buffered < 4 + length) return out;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      let messages: unknown;
      try {
        messages = JSON.parse(all.toString("utf8", 4, 4 + length));
      } catch {
        throw new FrameError("a frame is not a JSON array of Raft messages");
      }
      if (!Array.isArray(messages)) throw new FrameError("a frame is not a JSON array of Raft messages");
      out.push(messages as Message[]);
      const rest = all.subarray(4 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
  }

  /** Bytes of a frame begun but not finished. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const head = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [head];
    return head;
  }
}

export class FrameError extends Error {}
