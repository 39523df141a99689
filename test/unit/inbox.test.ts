/*
 * The Inbox alone: the receive side every stream socket shares. Examples of its contract, then a
 * property over random orders of pushes, reads, FIN, failure, cancel and discard. Runs on every runtime.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SocketError } from "../../src/core/errors.ts";
import { type Flow, Inbox } from "../../src/core/inbox.ts";
import { bytes, codeOf } from "../helpers/fake-transport.ts";

/** A Flow that records what the inbox asked of the runtime. */
function recordingFlow(): Flow & { log: string[]; paused: boolean } {
  const flow = {
    log: [] as string[],
    paused: false,
    pause() {
      flow.log.push("pause");
      flow.paused = true;
    },
    resume() {
      flow.log.push("resume");
      flow.paused = false;
    },
    demand() {
      flow.log.push("demand");
    },
  };
  return flow;
}

/** take() as a test sees it: what it delivered, synchronously or later. */
function taker(inbox: Inbox, into: Uint8Array | null) {
  const out: { value?: number | Uint8Array | null; error?: unknown; settled: boolean } = { settled: false };
  inbox.take(
    into,
    (value) => Object.assign(out, { value, settled: true }),
    (error) => Object.assign(out, { error, settled: true }),
  );
  return out;
}

describe("Inbox", () => {
  it("reads copy across chunk boundaries, in order, and leave the rest of a chunk for the next read", () => {
    const inbox = new Inbox(1024);
    inbox.push(bytes(1, 2, 3));
    inbox.push(bytes(4, 5));
    const a = new Uint8Array(4);
    expect(inbox.read(a)).toBe(4);
    expect([...a]).toEqual([1, 2, 3, 4]);
    const b = new Uint8Array(4);
    expect(inbox.read(b)).toBe(1);
    expect(b[0]).toBe(5);
  });

  it("a waiting read gets the next push directly; what does not fit stays buffered", async () => {
    const inbox = new Inbox(1024);
    const into = new Uint8Array(2);
    const r = inbox.read(into);
    expect(r).toBeInstanceOf(Promise);
    inbox.push(bytes(7, 8, 9));
    expect(await r).toBe(2);
    expect([...into]).toEqual([7, 8]);
    expect(inbox.read(new Uint8Array(4))).toBe(1);
  });

  it("FIN: buffered data first, then null, again and again; later pushes are ignored", () => {
    const inbox = new Inbox(1024);
    inbox.push(bytes(1));
    inbox.end();
    inbox.push(bytes(2));
    expect(inbox.read(new Uint8Array(4))).toBe(1);
    expect(inbox.read(new Uint8Array(4))).toBe(null);
    expect(inbox.read(new Uint8Array(4))).toBe(null);
  });

  it("a failure: buffered data first, then the error, and EOF is never reported instead", () => {
    const inbox = new Inbox(1024);
    const err = new SocketError("ECONNRESET", "reset by peer");
    inbox.push(bytes(1, 2));
    inbox.fail(err);
    inbox.end();
    expect(inbox.read(new Uint8Array(1))).toBe(1);
    expect(inbox.read(new Uint8Array(1))).toBe(1);
    expect(() => inbox.read(new Uint8Array(1))).toThrow(err);
    expect(() => inbox.read(new Uint8Array(1))).toThrow(err);
  });

  it("a waiting read settles with null at FIN and with the error at a failure", async () => {
    const a = new Inbox(1024);
    const r = a.read(new Uint8Array(1));
    a.end();
    expect(await r).toBe(null);
    const b = new Inbox(1024);
    const err = new SocketError("ETIMEDOUT", "timed out");
    const s = b.read(new Uint8Array(1));
    b.fail(err);
    await expect(s).rejects.toBe(err);
  });

  it("discard drops what is buffered, settles a waiting read, and makes its error only when a reader needs it", async () => {
    let made = 0;
    const make = (): SocketError => {
      made++;
      return new SocketError("ECLOSED", "closed");
    };
    const quiet = new Inbox(1024);
    quiet.push(bytes(1));
    quiet.discard(make);
    expect(made).toBe(0);
    const err = (() => {
      try {
        quiet.read(new Uint8Array(1));
      } catch (e) {
        return e;
      }
    })();
    expect(codeOf(err)).toBe("ECLOSED");
    expect(made).toBe(1);
    expect(() => quiet.read(new Uint8Array(1))).toThrow(err as Error);
    expect(made).toBe(1);

    const waiting = new Inbox(1024);
    const r = waiting.read(new Uint8Array(1));
    waiting.discard(make);
    await expect(r).rejects.toMatchObject({ code: "ECLOSED" });
    waiting.push(bytes(1)); // nothing is taken after a discard
    expect(() => waiting.read(new Uint8Array(1))).toThrow();
  });

  it("cancel rejects the waiting read with the reason; the data that comes next waits for the next read", async () => {
    const inbox = new Inbox(1024);
    const r = inbox.read(new Uint8Array(1));
    const reason = new Error("signal fired");
    inbox.cancel(reason);
    await expect(r).rejects.toBe(reason);
    inbox.cancel(new Error("no reader: nothing happens"));
    inbox.push(bytes(6));
    expect(inbox.read(new Uint8Array(1))).toBe(1);
  });

  it("a second read while one waits is EINVAL, and the first one still gets the data", async () => {
    const inbox = new Inbox(1024);
    const into = new Uint8Array(1);
    const first = inbox.read(into);
    expect(() => inbox.read(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(codeOf(taker(inbox, null).error)).toBe("EINVAL");
    inbox.push(bytes(3));
    expect(await first).toBe(1);
    expect(into[0]).toBe(3);
  });

  it("fill() copies a reused buffer into a waiting read, keeps a copy of what does not fit, and takes nothing without one", async () => {
    const inbox = new Inbox(1024);
    const buf = bytes(1, 2, 3, 4, 5);
    expect(inbox.fill(buf, 3)).toBe(0); // nobody waits: the adapter pushes a chunk itself
    expect(taker(inbox, null).settled).toBe(false);
    expect(inbox.fill(buf, 3)).toBe(0); // a whole-chunk reader: same
    inbox.cancel(new Error("done"));
    const into = new Uint8Array(2);
    const r = inbox.read(into);
    expect(inbox.fill(buf, 5)).toBe(2);
    buf.fill(0); // the adapter reuses its buffer at once
    expect(await r).toBe(2);
    expect([...into]).toEqual([1, 2]);
    const rest = new Uint8Array(8);
    expect(inbox.read(rest)).toBe(3);
    expect([...rest.subarray(0, 3)]).toEqual([3, 4, 5]);
  });

  it("take(null) hands whole chunks as they came, the same objects, synchronously when buffered", () => {
    const inbox = new Inbox(1 << 20);
    const chunks = Array.from({ length: 200 }, (_, i) => bytes(i & 255, (i >> 8) & 255));
    for (const c of chunks) inbox.push(c);
    for (const c of chunks) expect(taker(inbox, null).value).toBe(c);
    const later = taker(inbox, null);
    expect(later.settled).toBe(false);
    const c = bytes(42);
    inbox.push(c);
    expect(later.value).toBe(c);
  });

  it("pauses the runtime at the high-water mark and resumes it below half, once each", () => {
    const inbox = new Inbox(10);
    const flow = recordingFlow();
    inbox.setFlow(flow);
    inbox.push(new Uint8Array(9));
    expect(flow.log).toEqual([]);
    inbox.push(new Uint8Array(1));
    inbox.push(new Uint8Array(5));
    expect(flow.log).toEqual(["pause"]);
    inbox.read(new Uint8Array(10)); // 5 left: half, not below it
    expect(flow.log).toEqual(["pause"]);
    inbox.read(new Uint8Array(1));
    expect(flow.log).toEqual(["pause", "resume"]);
  });

  it("a flow connected late hears the pause already due and the demand of a waiting reader", () => {
    const full = new Inbox(4);
    full.push(new Uint8Array(4));
    const f1 = recordingFlow();
    full.setFlow(f1);
    expect(f1.log).toEqual(["pause"]);

    const waiting = new Inbox(4);
    void waiting.read(new Uint8Array(1));
    const f2 = recordingFlow();
    waiting.setFlow(f2);
    expect(f2.log).toEqual(["demand"]);
    taker(waiting, null); // EINVAL: one reader at a time, and no new demand for it
    expect(f2.log).toEqual(["demand"]);
  });
});

type Op =
  | { t: "push"; n: number }
  | { t: "fill"; n: number }
  | { t: "read"; n: number }
  | { t: "chunk" }
  | { t: "end" }
  | { t: "fail" }
  | { t: "cancel" }
  | { t: "discard" };

const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("push" as const), n: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("fill" as const), n: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("read" as const), n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: "chunk" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "end" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "fail" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "cancel" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "discard" as const }) },
);

describe("Inbox properties over random orders of pushes, reads, FIN, failure, cancel and discard", () => {
  it("bytes come out in order, once each; one reader at a time; every reader settles; flow control keeps its marks", () => {
    const HW = 32;
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 60 }), (sequence) => {
        const inbox = new Inbox(HW);
        const flow = recordingFlow();
        inbox.setFlow(flow);
        const sent: number[] = [];
        const got: number[] = [];
        let accepting = true; // pushes count until FIN, a failure or a discard
        let discarded = false;
        let ended: "no" | "fin" | "error" = "no";
        const failure = new SocketError("ECONNRESET", "reset");
        let waiter: ReturnType<typeof taker> | null = null;
        let waiterInto: Uint8Array | null = null;
        const reused = new Uint8Array(64);

        const collect = (r: ReturnType<typeof taker>, into: Uint8Array | null): void => {
          if (typeof r.value === "number") got.push(...into!.subarray(0, r.value));
          else if (r.value instanceof Uint8Array) got.push(...r.value);
        };
        const settleWaiter = (): void => {
          if (waiter?.settled) {
            collect(waiter, waiterInto);
            waiter = null;
          }
        };
        for (const op of sequence) {
          switch (op.t) {
            case "push": {
              const chunk = Uint8Array.from({ length: op.n }, (_, i) => (sent.length + i) & 255);
              if (accepting) sent.push(...chunk);
              inbox.push(chunk);
              break;
            }
            case "fill": {
              // As Deno's pump: its one read buffer, offered first to a waiting read, else pushed as a
              // copy; then overwritten by the next read, which must not change any byte handed over.
              const data = Uint8Array.from({ length: op.n }, (_, i) => (sent.length + i) & 255);
              reused.set(data);
              if (accepting) sent.push(...data);
              const room = inbox.fill(reused, op.n);
              if (room === 0) inbox.push(reused.slice(0, op.n));
              else expect(waiterInto?.byteLength).toBe(room);
              reused.fill(0xee);
              break;
            }
            case "read":
            case "chunk": {
              const into = op.t === "read" ? new Uint8Array(op.n) : null;
              const r = taker(inbox, into);
              if (waiter !== null) {
                expect(codeOf(r.error)).toBe("EINVAL"); // one reader at a time
                break;
              }
              if (r.settled) collect(r, into);
              else {
                waiter = r;
                waiterInto = into;
              }
              break;
            }
            case "end":
              if (ended === "no" && !discarded) ended = "fin";
              accepting = false;
              inbox.end();
              break;
            case "fail":
              // Also after FIN: the connection failed, and reads past the buffered data report it.
              if (!discarded) ended = "error";
              accepting = false;
              inbox.fail(failure);
              break;
            case "cancel":
              inbox.cancel(new Error("cancelled"));
              if (waiter !== null) expect(waiter.settled).toBe(true);
              waiter = null;
              break;
            case "discard":
              accepting = false;
              discarded = true;
              inbox.discard(() => new SocketError("ECLOSED", "closed"));
              break;
          }
          settleWaiter();
          // Bytes out are the bytes in, in order, none twice.
          expect(got).toEqual(sent.slice(0, got.length));
          // A waiter is only left waiting while nothing is buffered and the stream has not ended.
          if (waiter !== null) expect(ended === "no" && !discarded && got.length === sent.length).toBe(true);
          if (!discarded) {
            const buffered = sent.length - got.length;
            if (buffered >= HW) expect(flow.paused).toBe(true);
            if (flow.paused) expect(buffered).toBeGreaterThanOrEqual(HW / 2);
          }
        }
        // pause and resume alternate: never twice the same in a row.
        const pr = flow.log.filter((x) => x !== "demand");
        for (const [i, x] of pr.entries()) expect(x).toBe(i % 2 === 0 ? "pause" : "resume");
        // Draining what is left: all of it, then the end the stream had.
        for (let i = 0; i < 200; i++) {
          if (waiter !== null) break;
          const into = new Uint8Array(16);
          const r = taker(inbox, into);
          if (!r.settled) {
            waiter = r;
            break;
          }
          if (r.error !== undefined || r.value === null) {
            if (discarded) expect(codeOf(r.error)).toBe("ECLOSED");
            else if (ended === "error") expect(r.error).toBe(failure);
            else expect(r.value).toBe(null);
            break;
          }
          collect(r, into);
        }
        if (!discarded && ended !== "no") expect(got).toEqual(sent);
        if (waiter !== null) expect(ended === "no" && !discarded).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
