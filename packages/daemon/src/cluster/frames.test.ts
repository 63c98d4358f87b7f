import { describe, expect, it } from "vitest";
import type { Message } from "../raft/types.js";
import { encodeFrame, encodeFrames, FRAME_TARGET_BYTES, FrameError, FrameReader } from "./frames.js";

const append = (i: number, bytes: number): Message =>
  ({
    type: "append",
    from: "n1",
    to: "n2",
    term: 2,
    index: i,
    logTerm: 2,
    commit: i,
    entries: [{ index: i + 1, term: 2, type: "normal", data: "é".repeat(bytes / 2) }],
  }) as unknown as Message;

describe("Raft stream frames", () => {
  it("come back whole and in order however the bytes are cut", () => {
    const messages = Array.from({ length: 50 }, (_, i) => append(i, 100 + i * 7));
    const bytes = Buffer.concat([encodeFrame(messages.slice(0, 20)), ...encodeFrames(messages.slice(20))]);
    // Built from the messages' JSON one by one, a frame is the same bytes as the array's JSON.
    expect(
      Buffer.concat(encodeFrames(messages.slice(0, 20))).equals(encodeFrame(messages.slice(0, 20))),
    ).toBe(true);
    for (const size of [1, 3, 4, 5, 64, 1000, bytes.length]) {
      const reader = new FrameReader();
      const got: Message[] = [];
      for (let at = 0; at < bytes.length; at += size)
        for (const f of reader.push(bytes.subarray(at, at + size))) got.push(...f);
      expect(got, `chunks of ${size}`).toEqual(messages);
      expect(reader.pending).toBe(0);
    }
  });

  it("encode a run of entries that several peers are sent once, to the same messages", () => {
    const entries = Array.from({ length: 5 }, (_, i) => ({
      index: 10 + i,
      term: 2,
      type: "normal",
      data: JSON.stringify({ key: `k${i}`, value: { quote: '"é"\n' } }),
    }));
    const to = (peer: string, commit: number) =>
      ({
        type: "append",
        from: "n1",
        to: peer,
        term: 2,
        index: 9,
        logTerm: 2,
        entries,
        commit,
      }) as unknown as Message;
    const heartbeat = { type: "heartbeat", from: "n1", to: "n3", term: 2, commit: 9 } as unknown as Message;
    const lagging = { ...to("n4", 9), index: 7, entries: entries.slice(2) } as unknown as Message;
    const encoded = new Map();
    const first = encodeFrames([to("n2", 9)], encoded);
    expect(encoded.size).toBe(1);
    const second = encodeFrames([heartbeat, to("n3", 11)], encoded);
    expect(encoded.size).toBe(1);
    const short = { ...to("n5", 9), entries: entries.slice(0, 3) } as unknown as Message;
    const third = encodeFrames([lagging, short], encoded);
    expect(encoded.size).toBe(2);
    const reader = new FrameReader();
    expect(reader.push(Buffer.concat([...first, ...second, ...third]))).toEqual([
      [to("n2", 9)],
      [heartbeat, to("n3", 11)],
      [lagging, short],
    ]);
    // The same messages as encoded whole, the entries key last.
    expect(first[0]!.length).toBe(encodeFrame([to("n2", 9)]).length);
  });

  it("split a large batch into frames of about the target size, a lone large message whole", () => {
    const big = Array.from({ length: 12 }, (_, i) => append(i, 1024 * 1024));
    const frames = encodeFrames(big);
    expect(frames.length).toBeGreaterThan(2);
    for (const f of frames) expect(f.length).toBeLessThan(FRAME_TARGET_BYTES + 3 * 1024 * 1024);
    const shared = encodeFrames(big, new Map());
    expect(shared).toHaveLength(frames.length);
    expect(new FrameReader().push(Buffer.concat(shared)).flat()).toEqual(big);
    const huge = encodeFrames([append(1, 10 * 1024 * 1024)]);
    expect(huge).toHaveLength(1);
    const reader = new FrameReader();
    expect(reader.push(huge[0]!)[0]).toEqual([append(1, 10 * 1024 * 1024)]);
  });

  it("refuse what is not a frame of messages", () => {
    const oversized = Buffer.alloc(8);
    oversized.writeUInt32BE(0xffffffff, 0);
    expect(() => new FrameReader().push(oversized)).toThrow(FrameError);
    const notJson = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from("abc")]);
    expect(() => new FrameReader().push(notJson)).toThrow(/not a JSON array/);
    const notArray = Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from("{}")]);
    expect(() => new FrameReader().push(notArray)).toThrow(/not a JSON array/);
  });
});
