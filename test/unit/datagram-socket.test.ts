/*
 * The datagram socket every adapter shares, driven through its seam by a fake transport
 * (test/helpers/fake-datagram.ts): the receive queue and its bound, `dropped`, receives with
 * signals, ICMP errors, close and iteration; then a model-based property over random orders of
 * arrivals, receives, aborts and close. Runs on every runtime, without a network.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Datagram, NetAddr } from "../../src/core/types.ts";
import { fakeDatagramSocket, peer } from "../helpers/fake-datagram.ts";
import { bytes, codeOf, settle, type Tracked, track } from "../helpers/fake-transport.ts";

/** What a queued datagram costs beyond its payload (core/datagram/socket.ts). */
const OVERHEAD = 64;

const portOf = (d: Datagram<NetAddr>): number => d.remoteAddress.port;

describe("DatagramSocket through a fake transport: the receive queue", () => {
  it("datagrams wait in order; a full queue drops the newest and counts it; a receive makes room again", async () => {
    const { socket, fake } = await fakeDatagramSocket({ receiveQueueBytes: 3 * (OVERHEAD + 10) });
    for (const port of [1, 2, 3, 4]) fake.message(new Uint8Array(10), port);
    expect(socket.dropped).toBe(1);
    expect(portOf(await socket.receive())).toBe(1);
    fake.message(new Uint8Array(10), 5);
    expect(socket.dropped).toBe(1);
    fake.message(new Uint8Array(10), 6);
    expect(socket.dropped).toBe(2);
    const ports = [];
    for (let i = 0; i < 3; i++) ports.push(portOf(await socket.receive()));
    expect(ports).toEqual([2, 3, 5]);
  });

  it("empty datagrams cost their overhead, so a flood of them is bounded too", async () => {
    const { socket, fake } = await fakeDatagramSocket({ receiveQueueBytes: 10 * OVERHEAD });
    for (let i = 0; i < 25; i++) fake.message(new Uint8Array(0), i);
    expect(socket.dropped).toBe(15);
  });

  it("a datagram is received whole, with its sender and truncation flag", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    fake.message(bytes(1, 2, 3), 7777, true);
    const d = await socket.receive();
    expect([...d.data]).toEqual([1, 2, 3]);
    expect(d.remoteAddress).toEqual(peer(7777));
    expect(d.truncated).toBe(true);
  });

  it("waiting receives get datagrams directly, oldest receive first, and never count as dropped", async () => {
    const { socket, fake } = await fakeDatagramSocket({ receiveQueueBytes: 1 });
    const a = socket.receive();
    const b = socket.receive();
    fake.message(bytes(1), 1);
    fake.message(bytes(2), 2);
    expect(portOf(await a)).toBe(1);
    expect(portOf(await b)).toBe(2);
    expect(socket.dropped).toBe(0);
  });

  it("an ICMP error goes to the waiting receive, or waits in line behind the datagrams before it, once", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    const r = socket.receive();
    fake.icmp("ECONNREFUSED");
    await expect(r).rejects.toMatchObject({ code: "ECONNREFUSED", syscall: "recv" });
    fake.message(bytes(1), 1);
    fake.icmp("ECONNREFUSED");
    fake.icmp("EHOSTUNREACH"); // one pending error at a time, as the kernel keeps it
    fake.message(bytes(2), 2);
    expect(portOf(await socket.receive())).toBe(1);
    await expect(socket.receive()).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(portOf(await socket.receive())).toBe(2);
    // The socket stays open.
    fake.icmp("EHOSTUNREACH");
    await expect(socket.receive()).rejects.toMatchObject({ code: "EHOSTUNREACH" });
  });
});

describe("DatagramSocket through a fake transport: signals", () => {
  it("a receive with an already-aborted signal rejects with the reason and takes nothing", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    fake.message(bytes(1), 1);
    const reason = new Error("not now");
    await expect(socket.receive({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(portOf(await socket.receive())).toBe(1);
  });

  it("an aborted receive leaves the line: the next datagram goes to the next receive", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    const ac = new AbortController();
    const first = track(socket.receive({ signal: ac.signal }));
    const second = socket.receive();
    ac.abort(new Error("gave up"));
    fake.message(bytes(1), 1);
    expect(portOf(await second)).toBe(1);
    await settle();
    expect((first.error as Error).message).toBe("gave up");
  });

  it("a bind signal closes the socket when it fires: pending receives settle with ECLOSED", async () => {
    const ac = new AbortController();
    const { socket, fake } = await fakeDatagramSocket({ signal: ac.signal });
    const r = track(socket.receive());
    ac.abort();
    await settle();
    expect(codeOf(r.error)).toBe("ECLOSED");
    expect(fake.closes).toBe(1);
    await expect(socket.send(bytes(1), { hostname: "127.0.0.1", port: 9 })).rejects.toMatchObject({ code: "ECLOSED" });
  });

  it("a transport that reads on demand is told when a receive waits and when none does", async () => {
    const { socket, fake } = await fakeDatagramSocket({ demand: true });
    const ac = new AbortController();
    const a = track(socket.receive({ signal: ac.signal }));
    const b = socket.receive();
    expect(fake.demands).toEqual([true]);
    ac.abort();
    expect(fake.demands).toEqual([true]); // b still waits
    fake.message(bytes(1), 1);
    await b;
    expect(fake.demands).toEqual([true, false]);
    await settle();
    expect(a.state).toBe("rejected");
  });
});

describe("DatagramSocket through a fake transport: close and iteration", () => {
  it("close settles every pending receive with ECLOSED, drops the queue, and is idempotent", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    const pending = [track(socket.receive()), track(socket.receive())];
    const c1 = socket.close();
    expect(socket.close()).toBe(c1);
    await c1;
    await settle();
    expect(pending.map((p) => codeOf(p.error))).toEqual(["ECLOSED", "ECLOSED"]);
    fake.message(bytes(1), 1); // after close: ignored
    await expect(socket.receive()).rejects.toMatchObject({ code: "ECLOSED" });
    await socket[Symbol.asyncDispose]();
    expect(fake.closes).toBe(1);
    expect(socket.dropped).toBe(0);
  });

  it("datagrams queued when close() is called are dropped with the socket", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    fake.message(bytes(1), 1);
    await socket.close();
    await expect(socket.receive()).rejects.toMatchObject({ code: "ECLOSED" });
  });

  it("iteration yields datagrams in order and ends when the socket is closed", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    fake.message(bytes(1), 1);
    fake.message(bytes(2), 2);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const d of socket) {
        seen.push(portOf(d));
        if (seen.length === 2) setTimeout(() => fake.message(bytes(3), 3), 0);
      }
    })();
    await settle();
    await socket.close();
    await loop;
    expect(seen).toEqual([1, 2, 3]);
  });

  it("iteration stops at an ICMP error, which it throws", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    fake.message(bytes(1), 1);
    fake.icmp("ECONNREFUSED");
    const seen: number[] = [];
    const err = await (async () => {
      for await (const d of socket) seen.push(portOf(d));
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(codeOf(err)).toBe("ECONNREFUSED");
  });

  it("the readable yields datagrams and ends when the socket is closed", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    const reader = socket.readable.getReader();
    fake.message(bytes(1), 1);
    expect(portOf((await reader.read()).value!)).toBe(1);
    const next = reader.read();
    await socket.close();
    await expect(next).resolves.toMatchObject({ done: true });
  });

  it("a datagram over the UDP limit is EMSGSIZE and nothing is sent; the socket stays open", async () => {
    const { socket, fake } = await fakeDatagramSocket();
    const to = { hostname: "127.0.0.1", port: 9 };
    await expect(socket.send(new Uint8Array(65_508), to)).rejects.toMatchObject({ code: "EMSGSIZE" });
    expect(fake.sent).toEqual([]);
    await socket.send(new Uint8Array(65_507), to);
    expect(fake.sent.map((s) => [s.data.byteLength, s.to])).toEqual([[65_507, { hostname: "127.0.0.1", port: 9 }]]);
  });
});

type Op =
  | { t: "message"; size: number }
  | { t: "icmp" }
  | { t: "receive"; abortable: boolean }
  | { t: "abort"; which: number }
  | { t: "close" };

const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("message" as const), size: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: "icmp" as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("receive" as const), abortable: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("abort" as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ t: "close" as const }) },
);

/** What a receive must end with, by the model: a datagram (its sender's port), the ICMP error, the abort, ECLOSED, or still waiting. */
type Outcome = { port: number } | "icmp" | "aborted" | "ECLOSED" | "pending";

describe("DatagramSocket property over random orders of arrivals, ICMP errors, receives, aborts and close", () => {
  it("every receive gets exactly what the model of the bounded queue says; dropped counts every datagram lost to a full queue", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: OVERHEAD, max: 6 * OVERHEAD }),
        fc.array(ops, { maxLength: 50 }),
        async (limit, sequence) => {
          const { socket, fake } = await fakeDatagramSocket({ receiveQueueBytes: limit });
          // The model: the queue of datagrams (ports) and errors, its bytes, the waiting receives.
          const queue: Array<number | "icmp"> = [];
          let bytesQueued = 0;
          let errorQueued = false;
          let dropped = 0;
          let closed = false;
          const waiters: number[] = []; // indexes into `receives`
          const receives: Array<{ tracked: Tracked<Datagram<NetAddr>>; expect: Outcome; ac: AbortController | null }> =
            [];
          const sizes = new Map<number, number>();
          let nextPort = 1;

          for (const op of sequence) {
            switch (op.t) {
              case "message": {
                const port = nextPort++;
                sizes.set(port, op.size);
                fake.message(new Uint8Array(op.size).fill(port & 255), port);
                if (closed) break;
                const w = waiters.shift();
                if (w !== undefined) receives[w]!.expect = { port };
                else if (bytesQueued + op.size + OVERHEAD > limit) dropped++;
                else {
                  queue.push(port);
                  bytesQueued += op.size + OVERHEAD;
                }
                break;
              }
              case "icmp": {
                fake.icmp("ECONNREFUSED");
                if (closed) break;
                const w = waiters.shift();
                if (w !== undefined) receives[w]!.expect = "icmp";
                else if (!errorQueued) {
                  errorQueued = true;
                  queue.push("icmp");
                }
                break;
              }
              case "receive": {
                const ac = op.abortable ? new AbortController() : null;
                const tracked = track(socket.receive(ac ? { signal: ac.signal } : undefined));
                const entry = { tracked, expect: "pending" as Outcome, ac };
                receives.push(entry);
                const head = queue.shift();
                if (head !== undefined) {
                  if (head === "icmp") {
                    errorQueued = false;
                    entry.expect = "icmp";
                  } else {
                    bytesQueued -= sizes.get(head)! + OVERHEAD;
                    entry.expect = { port: head };
                  }
                } else if (closed) entry.expect = "ECLOSED";
                else waiters.push(receives.length - 1);
                break;
              }
              case "abort": {
                const abortable = waiters.filter((i) => receives[i]!.ac !== null);
                if (abortable.length === 0) break;
                const i = abortable[op.which % abortable.length]!;
                waiters.splice(waiters.indexOf(i), 1);
                receives[i]!.expect = "aborted";
                receives[i]!.ac!.abort(new Error("aborted"));
                break;
              }
              case "close":
                void socket.close();
                closed = true;
                for (const i of waiters.splice(0)) receives[i]!.expect = "ECLOSED";
                queue.length = 0;
                bytesQueued = 0;
                errorQueued = false;
                break;
            }
            expect(socket.dropped).toBe(dropped);
            expect(bytesQueued).toBeLessThanOrEqual(limit);
          }
          await settle(1);
          const outcome = (t: Tracked<Datagram<NetAddr>>): Outcome => {
            if (t.state === "pending") return "pending";
            if (t.state === "resolved") return { port: portOf(t.value!) };
            if ((t.error as Error).message === "aborted") return "aborted";
            const code = codeOf(t.error);
            return code === "ECONNREFUSED" ? "icmp" : (code as "ECLOSED");
          };
          expect(receives.map((r) => outcome(r.tracked))).toEqual(receives.map((r) => r.expect));
          // Each datagram whole, as sent.
          for (const r of receives) {
            if (r.tracked.state !== "resolved") continue;
            const d = r.tracked.value!;
            expect(d.data.byteLength).toBe(sizes.get(portOf(d)));
            expect(d.data.every((b) => b === (portOf(d) & 255))).toBe(true);
          }
          // Close settles whatever still waits, and the transport is closed once.
          await socket.close();
          await settle(1);
          expect(receives.filter((r) => r.tracked.state === "pending")).toEqual([]);
          expect(fake.closes).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
