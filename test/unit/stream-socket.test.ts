/*
 * StreamSocket, the state machine every adapter shares, driven through its seam by a fake
 * transport (test/helpers/fake-transport.ts): EOF, errors, half-close, close and its flushing,
 * the two read/write paths, abort signals and flow control, without a network. Runs on every runtime.
 */
import { describe, expect, it } from "vitest";
import { StreamSocket } from "../../src/core/socket.ts";
import {
  bytes,
  codeOf,
  FAKE_INFO,
  fakeContext,
  fakeSocket,
  nativeError,
  settle,
  track,
} from "../helpers/fake-transport.ts";

const enc = new TextEncoder();

/** A socket whose runtime holds writes, and its writable's writer once the stream has started. */
async function heldWriter(): Promise<
  ReturnType<typeof fakeSocket> & { writer: WritableStreamDefaultWriter<Uint8Array> }
> {
  const { socket, fake } = fakeSocket({ writes: "held" });
  await socket.opened;
  const writer = socket.writable.getWriter();
  await settle();
  return { socket, fake, writer };
}

/** The runtime takes what is held, `rounds` times: each time the writable passes its next chunk on. */
async function takeRounds(fake: ReturnType<typeof fakeSocket>["fake"], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    fake.take();
    await settle();
  }
}

describe("StreamSocket through a fake transport: EOF and errors", () => {
  it("a FIN from the peer reads as null after the data before it, and stays null", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    fake.deliver(bytes(1, 2, 3));
    fake.fin();
    const buf = new Uint8Array(8);
    expect(await socket.read(buf)).toBe(3);
    expect([...buf.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(await socket.read(buf)).toBe(null);
    expect(await socket.read(buf)).toBe(null);
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("an error from the peer is not EOF: buffered data first, then the mapped code, and closed rejects with it", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    fake.deliver(bytes(7, 8));
    fake.fail(nativeError("FAKE_TIMED_OUT"));
    const buf = new Uint8Array(8);
    expect(await socket.read(buf)).toBe(2);
    const err = await socket.read(buf).catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ETIMEDOUT");
    expect((err as Error).cause).toMatchObject({ code: "FAKE_TIMED_OUT" });
    await expect(socket.closed).rejects.toBe(err);
    // Later reads report the same error, never EOF.
    await expect(socket.read(buf)).rejects.toBe(err);
  });

  it("an unknown native error becomes ECONNRESET with the original as cause", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const native = new Error("something odd");
    fake.fail(native);
    const err = await socket.closed.catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ECONNRESET");
    expect((err as Error).cause).toBe(native);
  });

  it("a pending read settles with the mapped code when the peer's connection fails", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const r = track(socket.read(new Uint8Array(4)));
    await settle();
    expect(r.state).toBe("pending");
    fake.fail(nativeError("ECONNRESET"));
    await settle();
    expect(r.state).toBe("rejected");
    expect(codeOf(r.error)).toBe("ECONNRESET");
  });

  it("a pending read settles with null when the peer sends FIN", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const r = socket.read(new Uint8Array(4));
    fake.fin();
    expect(await r).toBe(null);
  });

  it("a read into an empty buffer returns 0 and a second read while one is pending is EINVAL", async () => {
    const { socket } = fakeSocket();
    await socket.opened;
    expect(await socket.read(new Uint8Array(0))).toBe(0);
    const first = track(socket.read(new Uint8Array(4)));
    await expect(socket.read(new Uint8Array(4))).rejects.toMatchObject({ code: "EINVAL" });
    await socket.close();
    await settle();
    expect(codeOf(first.error)).toBe("ECLOSED");
  });
});

describe("StreamSocket through a fake transport: half-close", () => {
  it("without allowHalfOpen, a FIN ends our side too: queued writes are handed, then the transport is closed", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const w = track(socket.write(bytes(1, 2, 3)));
    fake.fin();
    await settle();
    expect(fake.calls.close).toBe(0); // the write is not taken yet
    fake.take();
    await settle();
    expect(w.state).toBe("resolved");
    expect(fake.calls.close).toBe(1);
    expect(fake.closedWithWritesHeld).toBe(0);
    await expect(socket.closed).resolves.toBeUndefined();
    await expect(socket.write(bytes(4))).rejects.toMatchObject({ code: "EPIPE" });
    expect(await socket.read(new Uint8Array(4))).toBe(null);
  });

  it("with allowHalfOpen, a FIN leaves the write side open until closeWrite()", async () => {
    const { socket, fake } = fakeSocket({ allowHalfOpen: true });
    await socket.opened;
    fake.fin();
    expect(await socket.read(new Uint8Array(4))).toBe(null);
    await settle();
    expect(fake.calls.close).toBe(0);
    await socket.write(bytes(9, 9));
    expect(fake.handed.map((c) => [...c])).toEqual([[9, 9]]);
    await socket.closeWrite();
    expect(fake.calls.closeWrite).toBe(1);
    await settle();
    expect(fake.calls.close).toBe(1);
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("once the runtime reports the connection released, writes are EPIPE and never reach it", async () => {
    const { socket, fake } = fakeSocket({ allowHalfOpen: true });
    await socket.opened;
    fake.fin();
    fake.release(); // a runtime that closes the connection at the peer's FIN even though we did not end ours
    await expect(socket.write(bytes(1))).rejects.toMatchObject({ code: "EPIPE" });
    expect(fake.handed).toEqual([]);
    expect(await socket.read(new Uint8Array(1))).toBe(null);
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("closeWrite() sends FIN once, after earlier writes, and reading goes on", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    void socket.write(bytes(1));
    const cw = track(socket.closeWrite());
    expect(socket.closeWrite()).toBe(cw.promise);
    await settle();
    expect(fake.calls.closeWrite).toBe(0);
    fake.take();
    await settle();
    expect(cw.state).toBe("resolved");
    expect(fake.calls.closeWrite).toBe(1);
    await expect(socket.write(bytes(2))).rejects.toMatchObject({ code: "EPIPE" });
    fake.deliver(bytes(5, 6));
    const buf = new Uint8Array(4);
    expect(await socket.read(buf)).toBe(2);
    expect(fake.calls.close).toBe(0);
    fake.fin();
    expect(await socket.read(buf)).toBe(null);
    await settle();
    expect(fake.calls.close).toBe(1);
    await expect(socket.closed).resolves.toBeUndefined();
  });
});

describe("StreamSocket through a fake transport: close", () => {
  it("close() hands every queued write to the transport, in order, before closing it", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const writes = [bytes(1, 1), bytes(2, 2, 2), bytes(3)].map((b) => track(socket.write(b)));
    const closing = track(socket.close());
    await settle();
    expect(closing.state).toBe("pending");
    expect(fake.calls.close).toBe(0);
    fake.take(3); // a partial take: the first write and one byte of the second
    await settle();
    expect(writes.map((w) => w.state)).toEqual(["resolved", "pending", "pending"]);
    expect(fake.calls.close).toBe(0);
    fake.take();
    await settle();
    expect(writes.map((w) => w.state)).toEqual(["resolved", "resolved", "resolved"]);
    expect(closing.state).toBe("resolved");
    expect(fake.handed.map((c) => [...c])).toEqual([[1, 1], [2, 2, 2], [3]]);
    expect(fake.calls.close).toBe(1);
    expect(fake.closedWithWritesHeld).toBe(0);
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("close() is idempotent: one promise, one transport close", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const a = socket.close();
    const b = socket.close();
    expect(b).toBe(a);
    await a;
    await socket.close();
    await socket[Symbol.asyncDispose]();
    expect(fake.calls.close).toBe(1);
    expect(fake.calls.reset).toBe(0);
  });

  it("a pending read settles with ECLOSED on close(), and later reads and writes are ECLOSED", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    fake.deliver(bytes(1)); // unread data is dropped by close()
    const buf = new Uint8Array(1);
    expect(await socket.read(buf)).toBe(1);
    const r = track(socket.read(buf));
    await socket.close();
    await settle();
    expect(codeOf(r.error)).toBe("ECLOSED");
    await expect(socket.read(buf)).rejects.toMatchObject({ code: "ECLOSED" });
    await expect(socket.write(bytes(1))).rejects.toMatchObject({ code: "ECLOSED" });
    await expect(socket.closeWrite()).rejects.toMatchObject({ code: "ECLOSED" });
  });

  it("close() while connecting cancels the connect: opened rejects with ECLOSED, and a late connection is reset", async () => {
    const { socket, fake } = fakeSocket({ open: "later" });
    const opened = track(socket.opened);
    await socket.close();
    await settle();
    expect(codeOf(opened.error)).toBe("ECLOSED");
    expect(fake.openAborted).toBe(true);
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("writes made before the connection opens are handed in order once it opens, and close() waits for them", async () => {
    const { socket, fake } = fakeSocket({ open: "later" });
    const w1 = track(socket.write(enc.encode("ab")));
    const w2 = track(socket.write(enc.encode("cd")));
    const closing = track(socket.close());
    await settle();
    expect(fake.handed).toEqual([]);
    expect(closing.state).toBe("pending");
    fake.open();
    await settle();
    expect([w1.state, w2.state, closing.state]).toEqual(["resolved", "resolved", "resolved"]);
    expect(fake.handed.map((c) => new TextDecoder().decode(c))).toEqual(["ab", "cd"]);
    expect(fake.calls.close).toBe(1);
  });

  it("close() waits for every write made before the connection opened, also under backpressure", async () => {
    const { socket, fake } = fakeSocket({ open: "later", writes: "held" });
    const writes = [bytes(1), bytes(2), bytes(3)].map((b) => track(socket.write(b)));
    fake.open();
    await settle();
    const closing = track(socket.close());
    await settle();
    expect(fake.handed.map((c) => [...c])).toEqual([[1]]); // the first write is held: the rest wait behind it
    expect(closing.state).toBe("pending");
    fake.take(1);
    await settle();
    expect(fake.calls.close).toBe(0); // the second is handed and held now, the third waits
    fake.take();
    await settle();
    fake.take();
    await settle();
    expect(fake.handed.map((c) => [...c])).toEqual([[1], [2], [3]]);
    expect(writes.map((w) => w.state)).toEqual(["resolved", "resolved", "resolved"]);
    expect(closing.state).toBe("resolved");
    expect(fake.calls.close).toBe(1);
    expect(fake.writesAfterEnd).toBe(0);
  });

  it("a connect that fails rejects opened and closed with the mapped code, and queued writes with it", async () => {
    const { socket, fake } = fakeSocket({ open: "later" });
    const w = track(socket.write(bytes(1)));
    fake.refuse(nativeError("ECONNREFUSED"));
    await settle();
    await expect(socket.opened).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(socket.closed).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(codeOf(w.error)).toBe("ECONNREFUSED");
    expect(fake.handed).toEqual([]);
  });

  it("an accepted connection is open from the constructor: a write goes to the transport before any turn", async () => {
    const { socket, fake } = fakeSocket({ open: "accepted" });
    const w = track(socket.write(bytes(1)));
    expect(fake.calls.write).toBe(1);
    expect(await socket.opened).toEqual(FAKE_INFO);
    await settle();
    expect(w.state).toBe("resolved");
    await socket.close();
    expect(fake.calls.close).toBe(1);
  });

  it("an accepted connection that fails as it is taken over rejects opened and closed with the mapped code", async () => {
    const socket = new StreamSocket(fakeContext(), {
      now: () => {
        throw nativeError("FAKE_GONE");
      },
    });
    await expect(socket.opened).rejects.toMatchObject({ code: "ECONNRESET" });
    await expect(socket.closed).rejects.toMatchObject({ code: "ECONNRESET" });
    await expect(socket.write(bytes(1))).rejects.toMatchObject({ code: "ECONNRESET" });
    await socket.close();
  });
});

describe("StreamSocket through a fake transport: the two paths", () => {
  it("read() then a read of the readable: the readable fails with EINVAL", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    fake.deliver(bytes(1));
    await socket.read(new Uint8Array(1));
    await expect(socket.readable.getReader().read()).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("a read of the readable then read(): read() is EINVAL and says why", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    fake.deliver(bytes(4, 5));
    const chunk = await socket.readable.getReader().read();
    expect([...(chunk.value ?? [])]).toEqual([4, 5]);
    const err = await socket.read(new Uint8Array(1)).catch((e: unknown) => e);
    expect(codeOf(err)).toBe("EINVAL");
    expect((err as Error).message).toMatch(/readable stream/);
  });

  it("write() then the writable: the writable fails with EINVAL; the reverse too", async () => {
    const a = fakeSocket();
    await a.socket.write(bytes(1));
    await expect(a.socket.writable.getWriter().write(bytes(2))).rejects.toMatchObject({ code: "EINVAL" });
    expect(a.fake.handed.length).toBe(1);

    const b = fakeSocket();
    await b.socket.writable.getWriter().write(bytes(1));
    await expect(b.socket.write(bytes(2))).rejects.toMatchObject({ code: "EINVAL" });
    expect(b.fake.handed.length).toBe(1);
  });

  it("chunks given to the writable's writer before close() are flushed by it, as write()s are: at once", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const writer = socket.writable.getWriter();
    const w = track(writer.write(bytes(1))); // the stream hands it to the socket once it has started, a few microtasks later
    await socket.close();
    await settle();
    expect(fake.handed.map((c) => [...c])).toEqual([[1]]);
    expect(w.state).toBe("resolved");
  });

  it("chunks given to the writable's writer before close() are flushed by it, as write()s are: behind a held one", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const writer = socket.writable.getWriter();
    await settle();
    const w1 = track(writer.write(bytes(1)));
    const w2 = track(writer.write(bytes(2))); // waits in the stream until the first is taken
    const closing = track(socket.close());
    await settle();
    fake.take();
    await settle();
    fake.take();
    await settle();
    expect(fake.handed.map((c) => [...c])).toEqual([[1], [2]]);
    expect([w1.state, w2.state, closing.state]).toEqual(["resolved", "resolved", "resolved"]);
    expect(fake.writesAfterEnd).toBe(0);
  });

  it("a chunk given to the writable's writer while connecting keeps close() from cancelling the connect: it is sent once open", async () => {
    const { socket, fake } = fakeSocket({ open: "later" });
    const w = track(socket.writable.getWriter().write(bytes(7)));
    const closing = track(socket.close());
    await settle();
    expect(fake.openAborted).toBe(false);
    expect(closing.state).toBe("pending");
    fake.open();
    await settle();
    expect(fake.handed.map((c) => [...c])).toEqual([[7]]);
    expect([w.state, closing.state]).toEqual(["resolved", "resolved"]);
    expect(fake.calls.close).toBe(1);
  });

  it("a chunk given to the writable's writer after close() is ECLOSED and never handed, also while close() still flushes", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const writer = socket.writable.getWriter();
    const w1 = track(writer.write(bytes(1)));
    const closing = track(socket.close());
    const late = track(writer.write(bytes(2)));
    await settle();
    fake.take();
    await settle();
    expect(fake.handed.map((c) => [...c])).toEqual([[1]]);
    expect([w1.state, late.state, closing.state]).toEqual(["resolved", "rejected", "resolved"]);
    expect(codeOf(late.error)).toBe("ECLOSED");
  });

  it("the peer's FIN (without allowHalfOpen) flushes the chunks the writable still queues, then closes", async () => {
    const { fake, writer } = await heldWriter();
    const w1 = track(writer.write(bytes(1)));
    const w2 = track(writer.write(bytes(2)));
    fake.fin();
    await settle();
    await takeRounds(fake, 2);
    expect(fake.handed.map((c) => [...c])).toEqual([[1], [2]]);
    expect([w1.state, w2.state]).toEqual(["resolved", "resolved"]);
    expect(fake.calls.close).toBe(1);
    expect(fake.closedWithWritesHeld).toBe(0);
  });

  it("writable.abort() while close() waits for a chunk the writable still queues: reset at once, the chunk is never handed", async () => {
    const { socket, fake, writer } = await heldWriter();
    const w1 = track(writer.write(bytes(1)));
    const w2 = track(writer.write(bytes(2)));
    const closing = track(socket.close());
    await settle();
    expect(closing.state).toBe("pending");
    const aborting = track(writer.abort(new Error("now")));
    await settle();
    fake.take();
    await settle();
    expect(fake.calls.reset).toBe(1);
    expect(fake.calls.close).toBe(0);
    expect(fake.handed.map((c) => [...c])).toEqual([[1]]);
    expect([w1.state, w2.state, closing.state]).toEqual(["rejected", "rejected", "resolved"]);
    expect(aborting.state).not.toBe("pending");
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("a write refused by the writer after writer.close() does not make close() wait for it", async () => {
    const { socket, fake, writer } = await heldWriter();
    const w1 = track(writer.write(bytes(1)));
    const w2 = track(writer.write(bytes(2)));
    const closingWriter = track(writer.close());
    const refused = track(writer.write(bytes(3))); // the stream refuses it (TypeError): it never reaches the socket
    const closing = track(socket.close());
    await settle();
    await takeRounds(fake, 2);
    expect(fake.handed.map((c) => [...c])).toEqual([[1], [2]]);
    expect([w1.state, w2.state, refused.state, closing.state]).toEqual([
      "resolved",
      "resolved",
      "rejected",
      "resolved",
    ]);
    expect(closingWriter.state).not.toBe("pending");
    expect(fake.calls.close).toBe(1);
  });

  it("the readable ends at the peer's FIN, after the data before it", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    fake.deliver(bytes(1, 2));
    fake.deliver(bytes(3));
    fake.fin();
    const got: number[] = [];
    for await (const chunk of socket.readable) got.push(...chunk);
    expect(got).toEqual([1, 2, 3]);
  });

  it("a reader of the readable sees the stream end on close(), not an error", async () => {
    const { socket } = fakeSocket();
    await socket.opened;
    const reader = socket.readable.getReader();
    const r = reader.read();
    await socket.close();
    await expect(r).resolves.toMatchObject({ done: true });
  });
});

describe("StreamSocket through a fake transport: abort", () => {
  it("a write with an already-aborted signal hands nothing to the transport and rejects with the reason", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const reason = new Error("stop");
    const err = await socket.write(bytes(1, 2, 3), { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    await settle();
    expect(fake.handed).toEqual([]);
    // The socket is still usable: nothing half-sent.
    await socket.write(bytes(4));
    expect(fake.handed.map((c) => [...c])).toEqual([[4]]);
  });

  it("a write whose signal fires while it waits rejects with the reason", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const ac = new AbortController();
    const w = track(socket.write(bytes(1), { signal: ac.signal }));
    await settle();
    ac.abort(new Error("late"));
    await settle();
    expect((w.error as Error).message).toBe("late");
    fake.take();
  });

  it("a read whose signal fires leaves the data for the next read", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const ac = new AbortController();
    const buf = new Uint8Array(4);
    const r = track(socket.read(buf, { signal: ac.signal }));
    ac.abort(new Error("enough"));
    await settle();
    expect((r.error as Error).message).toBe("enough");
    fake.deliver(bytes(3, 4));
    expect(await socket.read(buf)).toBe(2);
    await expect(socket.read(buf, { signal: AbortSignal.abort(new Error("already")) })).rejects.toThrow("already");
  });

  it("writable.abort() resets the connection: closed resolves, reads are ECLOSED, nothing more is handed", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const writer = socket.writable.getWriter();
    await writer.write(bytes(1));
    await writer.abort(new Error("drop it"));
    expect(fake.calls.reset).toBe(1);
    expect(fake.calls.close).toBe(0);
    await expect(socket.closed).resolves.toBeUndefined();
    await expect(socket.read(new Uint8Array(1))).rejects.toMatchObject({ code: "ECLOSED" });
    expect(fake.handed.length).toBe(1);
    expect(fake.writesAfterEnd).toBe(0);
  });

  it("writable.abort() while a write waits under backpressure resets at once; the write fails", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const writer = socket.writable.getWriter();
    const w = track(writer.write(bytes(1)));
    await settle();
    // The write is held (the peer's window is shut): abort() must not wait for it.
    const aborting = track(writer.abort(new Error("drop it")));
    await settle();
    expect(fake.calls.reset).toBe(1);
    expect(w.state).toBe("rejected");
    expect(aborting.state).not.toBe("pending");
    await expect(socket.closed).resolves.toBeUndefined();
    expect(fake.writesAfterEnd).toBe(0);
  });

  it("where the runtime cannot reset, writable.abort() still drops the connection and rejects with ERR_UNSUPPORTED", async () => {
    const { socket, fake } = fakeSocket({ capabilities: { reset: false } });
    await socket.opened;
    const err = await socket.writable.abort().catch((e: unknown) => e);
    expect(codeOf(err)).toBe("ERR_UNSUPPORTED");
    expect(fake.calls.reset).toBe(1);
    await expect(socket.closed).resolves.toBeUndefined();
  });

  it("writable.abort() during a pending close() resets at once and settles close() and closed", async () => {
    const { socket, fake } = fakeSocket({ writes: "held" });
    await socket.opened;
    const writer = socket.writable.getWriter();
    void writer.write(bytes(1, 2, 3)).catch(() => {});
    await settle();
    const closing = track(socket.close());
    const closed = track(socket.closed);
    await settle();
    expect(closing.state).toBe("pending"); // the write is held: close() waits for it
    const aborting = track(writer.abort(new Error("now")));
    await settle();
    expect(fake.calls.reset).toBe(1);
    expect(closing.state).toBe("resolved");
    expect(closed.state).toBe("resolved");
    expect(aborting.state).not.toBe("pending");
    expect(fake.calls.close).toBe(0);
    expect(fake.writesAfterEnd).toBe(0);
  });
});

describe("StreamSocket through a fake transport: flow control", () => {
  it("the transport is paused once buffered data reaches the high-water mark, and resumed once reads drain it below half", async () => {
    const { socket, fake } = fakeSocket({ highWater: 10 });
    await socket.opened;
    fake.deliver(new Uint8Array(6));
    expect(fake.paused).toBe(false);
    fake.deliver(new Uint8Array(4));
    expect(fake.paused).toBe(true);
    expect(fake.calls.pause).toBe(1);
    const buf = new Uint8Array(5);
    expect(await socket.read(buf)).toBe(5); // 5 left: not below half yet
    expect(fake.paused).toBe(true);
    expect(await socket.read(new Uint8Array(1))).toBe(1); // 4 left
    expect(fake.paused).toBe(false);
    expect(fake.calls.resume).toBe(1);
  });

  it("data that arrives before the connection is handed over pauses the transport as soon as it is", async () => {
    const { socket, fake } = fakeSocket({ highWater: 4, open: "later" });
    fake.sink!.data(new Uint8Array(8)); // a runtime may deliver while the opener is still finishing
    fake.open();
    await socket.opened;
    expect(fake.paused).toBe(true);
    expect(await socket.read(new Uint8Array(8))).toBe(8);
    expect(fake.paused).toBe(false);
  });

  it("a pending read tells a transport that reads only on demand", async () => {
    const { socket, fake } = fakeSocket();
    await socket.opened;
    const r = socket.read(new Uint8Array(1));
    expect(fake.calls.demand).toBe(1);
    fake.deliver(bytes(1));
    expect(await r).toBe(1);
  });
});

describe("StreamSocket through a fake transport: capabilities", () => {
  it("without socketOptions (Workers), setNoDelay() and setKeepAlive() throw ERR_UNSUPPORTED at once, open or not", async () => {
    const { socket } = fakeSocket({ capabilities: { socketOptions: false } });
    const sync = (f: () => void): string => {
      try {
        f();
        return "none";
      } catch (err) {
        return codeOf(err);
      }
    };
    expect([sync(() => socket.setNoDelay()), sync(() => socket.setKeepAlive(true))]).toEqual([
      "ERR_UNSUPPORTED",
      "ERR_UNSUPPORTED",
    ]);
    await socket.opened;
    expect([sync(() => socket.setNoDelay(false)), sync(() => socket.setKeepAlive(false))]).toEqual([
      "ERR_UNSUPPORTED",
      "ERR_UNSUPPORTED",
    ]);
    // A bad argument is still EINVAL first, as everywhere.
    expect(sync(() => socket.setKeepAlive("yes" as never))).toBe("EINVAL");
    await socket.close();
  });
});
