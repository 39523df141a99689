/*
 * A TLS listener against clients that never finish their handshake, and TLS connect/close cycles:
 * nothing may hold a descriptor longer than it should. Descriptors are counted per listener port
 * (test/helpers/fds.ts); each test is bounded to a few hundred connections and a few seconds.
 */
import { describe, expect, it } from "vitest";
import { capabilities, connect, type Listener, type Socket, type TlsClientOptions } from "unisock";
import { connectionFds, canCountFds, fdsSettle } from "../helpers/fds.ts";
import { enc, expectCode, portOf, readN, within } from "../helpers/streams.ts";
import { expectUnsupported, serve, tlsListen, unsupportedHere } from "../helpers/tls.ts";
import * as certs from "../helpers/tls-fixtures.ts";

const trusted: TlsClientOptions = { ca: certs.ca };

/** The first 43 bytes of a ClientHello whose record announces 512: a server waits for the rest. */
const PARTIAL_HELLO = new Uint8Array([
  0x16,
  0x03,
  0x01,
  0x02,
  0x00, // handshake record, TLS 1.0 framing, 512 bytes
  0x01,
  0x00,
  0x01,
  0xfc, // ClientHello, 508 bytes
  0x03,
  0x03, // TLS 1.2
  ...new Array<number>(32).fill(0x42), // random
  0x00, // session id length
]);

interface NeedsFds {
  skip(note?: string): never;
}

/** Runs `body` with descriptor counting, or skips the test saying why (no /proc: not Linux). */
function needFds(ctx: NeedsFds): void {
  if (!canCountFds) ctx.skip("counting descriptors needs Linux's /proc/self/fd and /proc/net");
}

async function assertNoTls(): Promise<void> {
  await expectUnsupported(() => tlsListen());
}

function tlsConnect(port: number): Socket {
  return connect({ hostname: "127.0.0.1", port }, { secureTransport: "on", tls: trusted });
}

/** A plain TCP client that sends part of a ClientHello and then waits. */
async function stalledClient(port: number): Promise<Socket> {
  const c = connect({ hostname: "127.0.0.1", port });
  await c.opened;
  await c.write(PARTIAL_HELLO);
  return c;
}

/** How the server ended a stalled client, and when: "eof" or the error code, with ms since `since`. */
async function ending(c: Socket, since: number): Promise<{ how: string; ms: number }> {
  let how: string;
  try {
    const n = await c.read(new Uint8Array(1024));
    how = n === null ? "eof" : "data";
  } catch (err) {
    how = String((err as { code?: string }).code);
  }
  return { how, ms: Date.now() - since };
}

/** Resolves once `connectionFds(port)` reaches `n` (the server has accepted everyone), or fails after `ms`. */
async function fdsReach(port: number, n: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (connectionFds(port) < n) {
    if (Date.now() > end)
      throw new Error(`only ${connectionFds(port)} of ${n} descriptors on port ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A legitimate client is served: "ping" comes back. */
async function echoes(port: number): Promise<void> {
  await using c = tlsConnect(port);
  await c.opened;
  await c.write("ping");
  expect(new TextDecoder().decode(await readN(c, 4))).toBe("ping");
}

function echoServe(l: Listener): void {
  serve(l, async (s) => {
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await s.read(buf);
      if (n === null) return;
      await s.write(buf.slice(0, n));
    }
  });
}

const ENDED = ["eof", "ECONNRESET"];

it("tls.handshakeTimeoutMs must be a positive whole number of milliseconds (EINVAL otherwise)", async ({ task }) => {
  if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, "300", null, true, {}]) {
    await expectCode(() => tlsListen({ handshakeTimeoutMs: bad as number }), "EINVAL");
  }
  await using l = await tlsListen({ handshakeTimeoutMs: 2 ** 31 - 1 });
  expect(portOf(l.addr)).toBeGreaterThan(0);
});

/*
 * Each runs against the default listener and one with noDelay: false, which Deno's adapter used to
 * serve with Deno.listenTls, whose connections in their handshake could not be closed at all.
 */
describe.each([{ noDelay: true }, { noDelay: false }])(
  "TLS listener (noDelay: $noDelay): handshakes that do not finish",
  ({ noDelay }) => {
    it("a connection still in its handshake after handshakeTimeoutMs is closed; a client that finishes is served meanwhile", async (ctx) => {
      if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
      needFds(ctx);
      await using l = await tlsListen({ handshakeTimeoutMs: 300 }, { noDelay });
      echoServe(l);
      const port = portOf(l.addr);
      const t0 = Date.now();
      const stalled = await Promise.all(Array.from({ length: 20 }, () => stalledClient(port)));
      const ends = stalled.map((c) => ending(c, t0));
      await echoes(port);
      const ended = await within(Promise.all(ends), 5_000);
      expect(ended, "every stalled client was closed within 5 s").not.toBe("pending");
      for (const end of ended as { how: string; ms: number }[]) {
        expect(ENDED).toContain(end.how);
        expect(end.ms).toBeGreaterThanOrEqual(250);
      }
      await Promise.all(stalled.map((c) => c.close()));
      expect(await fdsSettle(port, 0, 2_000)).toBe(0);
    });

    it("a client that sends part of a ClientHello then FIN is closed at once, not at the deadline", async (ctx) => {
      if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
      needFds(ctx);
      await using l = await tlsListen({}, { noDelay }); // the default deadline: 10 s
      echoServe(l);
      const port = portOf(l.addr);
      const clients = await Promise.all(Array.from({ length: 50 }, () => stalledClient(port)));
      const t0 = Date.now();
      await Promise.all(clients.map((c) => c.closeWrite()));
      const ends = await within(Promise.all(clients.map((c) => ending(c, t0))), 3_000);
      expect(ends, "every client was closed within 3 s of its FIN").not.toBe("pending");
      for (const end of ends as { how: string }[]) expect(ENDED).toContain(end.how);
      await Promise.all(clients.map((c) => c.close()));
      expect(await fdsSettle(port, 0, 2_000)).toBe(0);
      await echoes(port);
    });

    it("hit-and-run clients (part of a ClientHello, then gone) leave no descriptor behind, and the listener goes on serving", async (ctx) => {
      if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
      needFds(ctx);
      await using l = await tlsListen({}, { noDelay });
      echoServe(l);
      const port = portOf(l.addr);
      for (let round = 0; round < 4; round++) {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const c = await stalledClient(port);
            await c.close();
          }),
        );
      }
      await echoes(port);
      expect(await fdsSettle(port, 0, 3_000)).toBe(0);
    });

    it("listener.close() closes connections still in their handshake; an accepted connection stays open", async (ctx) => {
      if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
      needFds(ctx);
      const l = await tlsListen({}, { noDelay });
      const port = portOf(l.addr);
      const accepted = l.accept();
      await using live = tlsConnect(port);
      await live.opened;
      await using server = await accepted;
      const stalled = await Promise.all(Array.from({ length: 100 }, () => stalledClient(port)));
      await fdsReach(port, 2 + 2 * stalled.length, 5_000); // the server holds every one of them
      const t0 = Date.now();
      await l.close();
      const ends = await within(Promise.all(stalled.map((c) => ending(c, t0))), 3_000);
      expect(ends, "every connection in its handshake was closed within 3 s of close()").not.toBe("pending");
      for (const end of ends as { how: string }[]) expect(ENDED).toContain(end.how);
      await Promise.all(stalled.map((c) => c.close()));
      expect(await fdsSettle(port, 2, 2_000)).toBe(2); // the live connection, both ends
      await live.write("still here");
      expect(new TextDecoder().decode(await readN(server, 10))).toBe("still here");
      await server.write(enc.encode("yes"));
      expect(new TextDecoder().decode(await readN(live, 3))).toBe("yes");
    });
  },
);

/**
 * `cycles` TLS connections made and closed one after another; returns the most descriptors seen
 * on the port right after a close() resolved (every 20th: reading /proc/net takes a while on a
 * busy machine). Both ends are in this process, so a connection whose server side is still
 * closing counts: a few, never one per recent cycle.
 */
/**
 * Serves one connection at a time with `handler`, then closes it; `closed()` resolves when the
 * close() of the next connection in order has resolved, so a count taken after it counts only
 * descriptors that outlived a resolved close() on both sides, however slow a loaded machine is.
 */
function closingServer(l: Listener, handler: (s: Socket) => Promise<void>): { closed(): Promise<void> } {
  const waiters: (() => void)[] = [];
  const done: Promise<void>[] = [];
  let taken = 0;
  const slot = (i: number): Promise<void> => (done[i] ??= new Promise<void>((r) => (waiters[i] = r)));
  void (async () => {
    for (let i = 0; ; i++) {
      const s = await l.accept().catch(() => null);
      if (s === null) return;
      slot(i);
      await handler(s).catch(() => {});
      await s.close().catch(() => {});
      waiters[i]!();
    }
  })();
  return { closed: () => slot(taken++) };
}

/** `cycles` connect/`once`/close cycles; the most connection descriptors left on `port` once both ends' close() resolved. */
async function cycle(
  port: number,
  cycles: number,
  server: { closed(): Promise<void> },
  once: (c: Socket) => Promise<void>,
): Promise<number> {
  let most = 0;
  for (let i = 1; i <= cycles; i++) {
    const c = tlsConnect(port);
    await c.opened;
    await once(c);
    await c.close();
    await server.closed();
    if (i % 20 === 0) most = Math.max(most, connectionFds(port));
  }
  return most;
}

describe("TLS connect/close cycles leave no descriptor behind", () => {
  it("200 cycles, the client closing first: each descriptor is released once close() resolves", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    needFds(ctx);
    await using l = await tlsListen();
    // The server reads to the client's EOF (close_notify or FIN), then closes.
    const server = closingServer(l, async (s) => {
      while ((await s.read(new Uint8Array(64))) !== null);
    });
    const port = portOf(l.addr);
    const most = await cycle(port, 200, server, async () => {});
    expect(most).toBeLessThanOrEqual(2);
    expect(await fdsSettle(port, 0, 1_000)).toBe(0);
  });

  it("200 cycles, the server closing first: each descriptor is released once close() resolves", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    needFds(ctx);
    await using l = await tlsListen();
    const server = closingServer(l, async (s) => {
      await s.write("bye");
    });
    const port = portOf(l.addr);
    const most = await cycle(port, 200, server, async (c) => {
      expect(new TextDecoder().decode(await readN(c, 3))).toBe("bye");
      expect(await c.read(new Uint8Array(8))).toBeNull();
    });
    expect(most).toBeLessThanOrEqual(2);
    expect(await fdsSettle(port, 0, 1_000)).toBe(0);
  });
});
