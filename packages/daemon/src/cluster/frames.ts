/**
 * The wire format of a Raft stream between two nodes: frames of a 4-byte big-endian length, then
 * the UTF-8 JSON of a Message[]. One frame carries what one turn of the event loop sent to a peer.
 */
import type { Message } from "../raft/types.js";

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
 * One frame of messages already in JSON (`bytes` their UTF-8 lengths), written straight into the
 * frame: joined into one string first, the JSON was copied twice more (the join, then flattening
 * it to count its bytes), 4% of what a leader allocated under writes.
 */
function frameOfParts(parts: readonly string[], bytes: readonly number[]): Buffer {
  let length = 1 + parts.length; // the brackets and the commas between
  for (const n of bytes) length += n;
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  let at = 4;
  frame[at++] = 0x5b; // [
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) frame[at++] = 0x2c; // ,
    at += frame.write(parts[i]!, at, "utf8");
  }
  frame[at] = 0x5d; // ]
  return frame;
}

/** `messages` as frames of about FRAME_TARGET_BYTES each, in order. */
export function encodeFrames(messages: readonly Message[]): Buffer[] {
  const frames: Buffer[] = [];
  let parts: string[] = [];
  let bytes: number[] = [];
  let size = 0;
  for (const message of messages) {
    const json = JSON.stringify(message);
    const n = Buffer.byteLength(json, "utf8");
    if (parts.length > 0 && size + n > FRAME_TARGET_BYTES) {
      frames.push(frameOfParts(parts, bytes));
      parts = [];
      bytes = [];
      size = 0;
    }
    parts.push(json);
    bytes.push(n);
    size += n + 1;
  }
  if (parts.length > 0) frames.push(frameOfParts(parts, bytes));
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
