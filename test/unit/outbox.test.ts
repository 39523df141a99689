/*
 * The Outbox with a fake runtime write (test/helpers/fake-sink.ts): examples of each guarantee,
 * then fast-check over random orders of writes, partial takes, drains, settles of an asynchronous
 * send, ticks, arrivals, flushes, failures and drops. Runs on every runtime, without a network.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SocketError } from "../../src/core/errors.ts";
import { BATCH_BYTES, HIGH_WATER, SMALL_WRITE } from "../../src/core/coalesce.ts";
import { fakeOutbox } from "../helpers/fake-sink.ts";
import { settle, track } from "../helpers/fake-transport.ts";

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const flushMicrotasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("Outbox (synchronous runtime write, as Bun's)", () => {
  it("a write with nothing ahead of it goes straight to the runtime and resolves at once", () => {
    const { outbox, sink } = fakeOutbox(false);
    expect(outbox.write(bytes(10, 1))).toBeUndefined();
    expect(sink.sends).toBe(1);
    expect(sink.taken).toEqual(Array(10).fill(1));
  });

  it("small writes of one burst leave together at the end of the tick, in order", () => {
    const { outbox, sink, tick } = fakeOutbox(false);
    for (let i = 1; i <= 100; i++) expect(outbox.write(bytes(64, i))).toBeUndefined();
    expect(sink.sends).toBe(1);
    tick();
    expect(sink.sends).toBe(2);
    expect(sink.taken).toEqual(Array.from({ length: 100 }, (_, i) => Array(64).fill(i + 1)).flat());
  });

  it("after the peer sent data, the next small write goes straight out (an answer is never delayed)", () => {
    const { outbox, sink, deferred } = fakeOutbox(false);
    outbox.write(bytes(5, 1));
    outbox.received();
    outbox.write(bytes(5, 2));
    expect(sink.sends).toBe(2);
    expect(deferred()).toBe(0);
  });

  it("the tail the runtime did not take waits for its drain, and the write resolves only then", async () => {
    const { outbox, sink } = fakeOutbox(false);
    sink.room = 30_000;
    const p = track(outbox.write(bytes(50_000, 7))!);
    await flushMicrotasks();
    expect(p.state).toBe("pending");
    sink.room = Number.POSITIVE_INFINITY;
    outbox.drained();
    await flushMicrotasks();
    expect(p.state).toBe("resolved");
    expect(sink.taken.length).toBe(50_000);
  });

  it("small writes past the high-water mark wait for the runtime: backpressure reaches the writer", async () => {
    const { outbox, sink } = fakeOutbox(false);
    sink.room = 0;
    outbox.write(bytes(100, 1)); // straight out, not taken: waits for the drain
    const results: (Promise<void> | undefined)[] = [];
    for (let i = 0; i < HIGH_WATER / 1000 + 2; i++) results.push(outbox.write(bytes(1000, 2)));
    const waiting = results.filter((r) => r !== undefined);
    expect(waiting.length).toBeGreaterThan(0);
    expect(outbox.pending).toBeLessThanOrEqual(HIGH_WATER + 1000 * waiting.length);
    sink.room = Number.POSITIVE_INFINITY;
    outbox.drained();
    await expect(Promise.all(waiting)).resolves.toBeDefined();
    expect(outbox.pending).toBe(0);
  });

  it("flush() resolves once every byte is taken, batches included", async () => {
    const { outbox, sink } = fakeOutbox(false);
    outbox.write(bytes(10, 1));
    outbox.write(bytes(10, 2)); // batched
    sink.room = 5;
    const flushed = track(outbox.flush());
    await flushMicrotasks();
    expect(flushed.state).toBe("pending");
    sink.room = Number.POSITIVE_INFINITY;
    outbox.drained();
    await flushMicrotasks();
    expect(flushed.state).toBe("resolved");
    expect(sink.taken.length).toBe(20);
  });

  it("a runtime write that fails fails the write, every one behind it, and every later one", async () => {
    const { outbox, sink } = fakeOutbox(false);
    sink.room = 0;
    const first = track(outbox.write(bytes(20_000, 1))!);
    const second = track(outbox.write(bytes(20_000, 2))!);
    const broke = new SocketError("EPIPE", "broken");
    sink.failNext = broke;
    sink.room = Number.POSITIVE_INFINITY;
    outbox.drained();
    await flushMicrotasks();
    expect(first.error).toBe(broke);
    expect(second.error).toBe(broke);
    expect(() => outbox.write(bytes(1, 3))).toThrow(broke);
  });

  it("drop() fails what is queued with its reason and refuses later writes with EPIPE", async () => {
    const { outbox, sink } = fakeOutbox(false);
    sink.room = 0;
    const queued = track(outbox.write(bytes(20_000, 1))!);
    const flushed = track(outbox.flush());
    const reason = new SocketError("ECLOSED", "reset");
    outbox.drop(() => reason);
    await flushMicrotasks();
    expect(queued.error).toBe(reason);
    expect(flushed.state).toBe("resolved");
    expect(() => outbox.write(bytes(1, 1))).toThrow(expect.objectContaining({ code: "EPIPE" }));
    outbox.drained();
    expect(sink.sends).toBe(1);
  });

  it("1,000 small writes in a tick cost a few runtime writes, not 1,000", () => {
    const { outbox, sink, tick } = fakeOutbox(false);
    for (let i = 0; i < 1000; i++) outbox.write(bytes(64, i & 255));
    tick();
    expect(sink.sends).toBeLessThanOrEqual(2 + Math.ceil((1000 * 64) / BATCH_BYTES));
    expect(sink.taken.length).toBe(64_000);
  });
});

describe("Outbox (asynchronous runtime write, as Deno's)", () => {
  it("one send at a time; small writes behind it leave together when it settles", async () => {
    const { outbox, sink } = fakeOutbox(true);
    expect(outbox.write(bytes(10, 1))).toBeUndefined();
    for (let i = 2; i <= 50; i++) expect(outbox.write(bytes(10, i))).toBeUndefined();
    expect(sink.sends).toBe(1);
    sink.settle(10);
    await flushMicrotasks();
    expect(sink.sends).toBe(2);
    sink.settle(Number.POSITIVE_INFINITY);
    await flushMicrotasks();
    expect(sink.overlapping).toBe(0);
    expect(sink.taken).toEqual(Array.from({ length: 50 }, (_, i) => Array(10).fill(i + 1)).flat());
  });

  it("while one batch is in flight the next one fills: the writer waits only past a batch behind it", async () => {
    const { outbox, sink } = fakeOutbox(true);
    outbox.write(bytes(10, 1));
    const first: (Promise<void> | undefined)[] = [];
    for (let i = 0; i < 66; i++) first.push(outbox.write(bytes(1000, 2)));
    expect(first.slice(0, 65).every((r) => r === undefined)).toBe(true);
    expect(first[65]).toBeInstanceOf(Promise);
    sink.settle(10); // the batch of 65 writes goes out
    await flushMicrotasks();
    expect(sink.inFlight).toBe(true);
    expect(outbox.write(bytes(1000, 3))).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      sink.settle(Number.POSITIVE_INFINITY);
      await flushMicrotasks();
    }
    await expect(first[65]).resolves.toBeUndefined();
    expect(sink.taken.length).toBe(10 + 67 * 1000);
  });

  it("a small write resolved at once is handed over as a copy: the caller may reuse its buffer", async () => {
    const { outbox, sink } = fakeOutbox(true);
    const mine = bytes(16, 9);
    expect(outbox.write(mine)).toBeUndefined();
    mine.fill(0);
    sink.settle(16);
    await flushMicrotasks();
    expect(sink.taken).toEqual(Array(16).fill(9));
  });

  it("a large write resolves when the runtime took all of it, over several partial sends", async () => {
    const { outbox, sink } = fakeOutbox(true);
    const p = track(outbox.write(bytes(SMALL_WRITE * 2, 4))!);
    sink.settle(1000);
    await flushMicrotasks();
    expect(p.state).toBe("pending");
    sink.settle(Number.POSITIVE_INFINITY);
    await flushMicrotasks();
    expect(p.state).toBe("resolved");
    expect(sink.sends).toBe(2);
    expect(sink.taken.length).toBe(SMALL_WRITE * 2);
  });

  it("a rejected send fails what waits behind it with the runtime's error", async () => {
    const { outbox, sink } = fakeOutbox(true);
    const big = track(outbox.write(bytes(SMALL_WRITE, 1))!);
    const broke = new SocketError("ECONNRESET", "reset by peer");
    sink.settle(0, broke);
    await flushMicrotasks();
    expect(big.error).toBe(broke);
    expect(() => outbox.write(bytes(1, 1))).toThrow(broke);
  });
});

type Op =
  | { t: "write"; n: number }
  | { t: "room"; n: number }
  | { t: "drained" }
  | { t: "settle"; n: number }
  | { t: "tick" }
  | { t: "received" }
  | { t: "flush" }
  | { t: "fail" }
  | { t: "drop" };

const ops: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("write" as const),
      n: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: SMALL_WRITE, max: 40_000 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("room" as const), n: fc.integer({ min: 0, max: 50_000 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: "drained" as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("settle" as const), n: fc.integer({ min: 0, max: 50_000 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: "tick" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "received" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "flush" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "fail" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "drop" as const }) },
);

interface Written {
  id: number;
  data: Uint8Array;
  done: "pending" | "resolved" | "rejected";
  takenWhenRejected?: number;
}

/** Plays one order of events, then lets the runtime take everything; checks what must hold in every order. */
async function play(async: boolean, events: Op[]): Promise<void> {
  const { outbox, sink, tick } = fakeOutbox(async);
  const accepted: Written[] = [];
  const flushes: ReturnType<typeof track<void>>[] = [];
  let ended = false;
  for (const e of events) {
    switch (e.t) {
      case "write": {
        const w: Written = {
          id: (accepted.length % 250) + 1,
          data: bytes(e.n, (accepted.length % 250) + 1),
          done: "pending",
        };
        let r: Promise<void> | undefined;
        try {
          r = outbox.write(w.data);
        } catch {
          expect(ended || sink.failures > 0).toBe(true); // only a broken or dropped Outbox refuses a write
          break;
        }
        accepted.push(w);
        if (r === undefined) {
          w.done = "resolved";
          w.data.fill(0); // the caller reuses its buffer at once
        } else {
          r.then(
            () => {
              w.done = "resolved";
              w.data.fill(0);
            },
            () => {
              w.done = "rejected";
              w.takenWhenRejected = sink.taken.length;
            },
          );
        }
        break;
      }
      case "room":
        sink.room = e.n;
        break;
      case "drained":
        outbox.drained();
        break;
      case "settle":
        sink.settle(e.n);
        break;
      case "tick":
        tick();
        break;
      case "received":
        outbox.received();
        break;
      case "flush":
        flushes.push(track(outbox.flush()));
        break;
      case "fail":
        // The runtime's next write fails (a reset, EPIPE).
        sink.failNext = new SocketError("EPIPE", "broken");
        break;
      case "drop":
        outbox.drop(() => new SocketError("ECLOSED", "dropped"));
        ended = true;
        break;
    }
    await flushMicrotasks();
    // What the runtime took is, byte for byte, the accepted writes in call order.
    const expected = accepted.flatMap((w) => Array(w.data.byteLength).fill(w.id));
    expect(sink.taken).toEqual(expected.slice(0, sink.taken.length));
    expect(sink.overlapping).toBe(0);
    // Backpressure: bytes of resolved writes the runtime has not taken stay under the high-water mark
    // behind the one write (at most a batch) the runtime is working on.
    let offset = 0;
    let resolvedUntaken = 0;
    for (const w of accepted) {
      const untaken = Math.max(0, Math.min(w.data.byteLength, offset + w.data.byteLength - sink.taken.length));
      if (w.done === "resolved") resolvedUntaken += untaken;
      offset += w.data.byteLength;
    }
    expect(resolvedUntaken).toBeLessThanOrEqual(HIGH_WATER + BATCH_BYTES);
  }
  // Now the runtime takes everything: every write settles, and each resolved one reached it whole.
  sink.room = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 100 && (outbox.pending > 0 || sink.inFlight); i++) {
    tick();
    outbox.drained();
    sink.settle(Number.POSITIVE_INFINITY);
    await flushMicrotasks();
  }
  const final = track(outbox.flush());
  await flushMicrotasks();
  expect(final.state).toBe("resolved");
  await settle(1);
  for (const f of flushes) expect(f.state).toBe("resolved");
  for (const w of accepted) expect(w.done).not.toBe("pending");
  // Nothing is lost unless the connection broke or was dropped; a write that failed was not taken whole when it failed.
  const total = accepted.reduce((a, w) => a + w.data.byteLength, 0);
  if (!ended && sink.failures === 0) expect(sink.taken.length).toBe(total);
  let offset = 0;
  for (const w of accepted) {
    offset += w.data.byteLength;
    if (w.done === "rejected") expect(w.takenWhenRejected).toBeLessThan(offset);
  }
}

describe("Outbox properties (random orders of events)", () => {
  for (const async of [false, true]) {
    it(`${async ? "asynchronous" : "synchronous"} runtime: order kept, nothing lost, backpressure held, every write settles`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(ops, { maxLength: 60 }), (events) => play(async, events)),
        { numRuns: 200 },
      );
    });
  }
});
