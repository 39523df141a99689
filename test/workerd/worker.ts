/**
 * The worker the workerd tests run (see harness.ts): each case is a client-side behaviour of
 * unisock, run inside a request with the workerd adapter; it answers with what it observed, and
 * the test (in Node, Deno or Bun) checks that against what its server saw. Errors come back with
 * their SocketError code.
 */
import {
  bind,
  capabilities,
  connect,
  LengthPrefixedReader,
  LineReader,
  listen,
  runtime,
  type Socket,
  SocketError,
  writeFrame,
} from "../../src/workerd.ts";

// biome-ignore lint/suspicious/noExplicitAny: the JSON arguments the test runner sends, read as each case expects
type Args = Record<string, any>;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Deterministic bytes (a counter pattern), so both sides can hash them without sending a seed. */
function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return all;
}

async function sha256(parts: Uint8Array[]): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", concat(parts)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readAll(s: Socket): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (let n = await s.read(buf); n !== null; n = await s.read(buf)) parts.push(buf.slice(0, n));
  return parts;
}

const bytesOf = (parts: Uint8Array[]): number => parts.reduce((a, p) => a + p.byteLength, 0);

/** The code of what `f` threw or rejected with ("none" if it did not). */
async function codeOf(f: () => unknown): Promise<string> {
  try {
    await f();
    return "none";
  } catch (err) {
    return err instanceof SocketError ? err.code : `${(err as Error)?.name}: ${(err as Error)?.message}`;
  }
}

const target = (a: Args) => ({ hostname: a.host ?? "127.0.0.1", port: a.port as number });

/** Writes `bytes` pattern bytes in 64 KiB writes, closes the write side, reads to EOF. */
async function exchange(s: Socket, bytes: number): Promise<Record<string, unknown>> {
  const data = pattern(bytes);
  const writing = (async () => {
    for (let o = 0; o < bytes; o += 65536) await s.write(data.subarray(o, Math.min(bytes, o + 65536)));
    await s.closeWrite();
  })();
  const parts = await readAll(s);
  await writing;
  return { sent: await sha256([data]), received: await sha256(parts), receivedBytes: bytesOf(parts) };
}

/** Sends `line` to the test's control server at `port` and waits until it has acted (it then ends the connection). */
async function signal(port: number, line: string): Promise<void> {
  const c = connect({ hostname: "127.0.0.1", port }, { allowHalfOpen: true });
  await c.write(`${line}\n`);
  await readAll(c);
  await c.close();
}

const cases: Record<string, (a: Args) => Promise<unknown>> = {
  async identity() {
    return { runtime, capabilities: { ...capabilities } };
  },

  /** connect, opened's info, write/closeWrite, read to EOF (an echo server), closed. */
  async echo(a) {
    const s = connect(target(a), {
      allowHalfOpen: true,
      secureTransport: a.tls ? "on" : "off",
      ...(a.serverName ? { tls: { serverName: a.serverName } } : {}),
    });
    const info = await s.opened;
    const seen = await exchange(s, a.bytes ?? 5);
    await s.close();
    await s.closed;
    return { info, ...seen, secureTransport: s.secureTransport };
  },

  /** Sends, half-closes, then reads the peer's answer (which it sends only after our FIN) as text. */
  async halfClose(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    const data = pattern(a.bytes);
    await s.write(data);
    await s.closeWrite();
    const answer = dec.decode(concat(await readAll(s)));
    await s.close();
    return { sent: await sha256([data]), answer };
  },

  /** The same through readable/writable (Web Streams), with a BYOB reader. */
  async echoStreams(a) {
    const s = connect(target(a), { allowHalfOpen: true, secureTransport: a.tls ? "on" : "off" });
    const data = pattern(a.bytes);
    const writing = (async () => {
      const w = s.writable.getWriter();
      for (let o = 0; o < data.byteLength; o += 65536) await w.write(data.slice(o, o + 65536));
      await w.close();
    })();
    const reader = s.readable.getReader({ mode: "byob" });
    const parts: Uint8Array[] = [];
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(32 * 1024));
      if (done) break;
      parts.push(value);
    }
    await writing;
    await s.close();
    return { sent: await sha256([data]), received: await sha256(parts), receivedBytes: bytesOf(parts) };
  },

  /** The peer writes and closes: data, then EOF (null), then `closed` resolves. */
  async readToEof(a) {
    const s = connect(target(a), { secureTransport: a.tls ? "on" : "off" });
    if (a.first) await s.write(a.first);
    const parts = await readAll(s);
    const again = await s.read(new Uint8Array(8));
    await s.closed;
    return { text: dec.decode(concat(parts)), again };
  },

  /**
   * The peer sends FIN first. allowHalfOpen: we can still write, and the peer reads it;
   * without it a write after EOF is EPIPE.
   */
  async peerFinFirst(a) {
    const s = connect(target(a), { allowHalfOpen: a.allowHalfOpen });
    const text = dec.decode(concat(await readAll(s)));
    const write = await codeOf(() => s.write("after-eof"));
    if (write === "none") await s.closeWrite();
    await s.close();
    return { text, write };
  },

  /** read()/write() after close() are ECLOSED; close() is idempotent. */
  async useAfterClose(a) {
    const s = connect(target(a));
    await s.opened;
    await s.close();
    await s.close();
    return {
      read: await codeOf(() => s.read(new Uint8Array(4))),
      write: await codeOf(() => s.write("x")),
      closeWrite: await codeOf(() => s.closeWrite()),
    };
  },

  /** write() after closeWrite() is EPIPE. */
  async writeAfterCloseWrite(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    await s.closeWrite();
    const code = await codeOf(() => s.write("x"));
    await s.close();
    return { code };
  },

  /** Mixing read() with the readable is EINVAL. */
  async mixedPaths(a) {
    const s = connect(target(a));
    await s.opened;
    void s.read(new Uint8Array(4)).catch(() => {});
    const code = await codeOf(() => s.readable.getReader().read());
    await s.close();
    return { code };
  },

  /** A refused connection rejects opened and closed with ECONNREFUSED, naming its target. */
  async refused(a) {
    const s = connect(target(a), { secureTransport: a.tls ? "on" : "off" });
    const err = await s.opened.then(
      () => null,
      (e: SocketError) => e,
    );
    return {
      opened: await codeOf(() => s.opened),
      closed: await codeOf(() => s.closed),
      address: err?.address,
      port: err?.port,
    };
  },

  /** opened's code only (TLS failures). */
  async openCode(a) {
    const s = connect(target(a), { secureTransport: "on" });
    const code = await codeOf(() => s.opened);
    await s.close();
    return { code };
  },

  /** A peer that resets: the pending read fails with ECONNRESET. */
  async peerReset(a) {
    const s = connect(target(a));
    await s.opened;
    // The peer resets once it hears from us: a reset before workerd's connect completes is
    // reported by workerd as a failed connect, which is another test's subject.
    await s.write("go");
    const read = await codeOf(async () => {
      while ((await s.read(new Uint8Array(1024))) !== null);
    });
    const closed = await codeOf(() => s.closed);
    return { read, closed };
  },

  /** A bad argument is EINVAL before anything touches the network. */
  async invalidArguments() {
    return {
      port: await codeOf(() => connect({ hostname: "127.0.0.1", port: 70000 })),
      address: await codeOf(() => connect("no-port-here")),
      secureTransport: await codeOf(() => connect("127.0.0.1:1", { secureTransport: "maybe" as never })),
      tlsWithoutTransport: await codeOf(() => connect("127.0.0.1:1", { tls: {} })),
      readInto: await codeOf(() => connect("127.0.0.1:1").read("x" as never)),
      listenOptions: await codeOf(() => listen(5 as never)),
      tlsOption: await codeOf(() => connect("127.0.0.1:1", { secureTransport: "on", tls: { ca: 5 as never } })),
    };
  },

  /** An aborted signal rejects opened with its reason; a read aborted mid-way loses no bytes. */
  async signals(a) {
    const pre = connect(target(a), { signal: AbortSignal.abort(new Error("stop")) });
    const opened = await pre.opened.then(
      () => "none",
      (e) => (e as Error).message,
    );
    const ac0 = new AbortController();
    const s = connect(target(a), { signal: ac0.signal });
    await s.opened;
    ac0.abort(new Error("too late")); // the signal covers connecting only: the socket keeps working
    const readTimeout = await s.read(new Uint8Array(8), { signal: AbortSignal.timeout(50) }).then(
      () => "none",
      (e) => (e as Error).name,
    );
    const writeAborted = await s.write("never", { signal: AbortSignal.abort(new Error("no")) }).then(
      () => "none",
      (e) => (e as Error).message,
    );
    const ac = new AbortController();
    const pending = s.read(new Uint8Array(16), { signal: ac.signal });
    ac.abort(new Error("read aborted"));
    const read = await pending.then(
      () => "none",
      (e) => (e as Error).message,
    );
    await s.write("ping");
    const buf = new Uint8Array(16);
    const n = await s.read(buf);
    await s.close();
    return { opened, readTimeout, writeAborted, read, after: dec.decode(buf.subarray(0, n ?? 0)) };
  },

  /** Framing over a socket: length-prefixed frames and lines, echoed by the peer. */
  async framing(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    const frames = [enc.encode("one"), new Uint8Array(0), pattern(100_000)];
    for (const f of frames) await writeFrame(s, f);
    await s.write("line a\nline b\n");
    await s.closeWrite();
    const reader = new LengthPrefixedReader(s);
    const got: number[] = [];
    for (let i = 0; i < frames.length; i++) got.push((await reader.read())!.byteLength);
    await s.close();
    return { frames: got };
  },

  /** Lines from the peer, read with LineReader up to EOF. */
  async lines(a) {
    const s = connect(target(a));
    const reader = new LineReader(s);
    const lines: string[] = [];
    for (let l = await reader.read(); l !== null; l = await reader.read()) lines.push(dec.decode(l));
    await s.close();
    return { lines };
  },

  /** STARTTLS: plaintext greeting, "STARTTLS", upgrade, then an echo over TLS. */
  async starttls(a) {
    // a.connectServerName: given to connect(), it is the default of startTls().
    const tlsDefaults = a.connectServerName ? { tls: { serverName: a.connectServerName } } : {};
    const s = connect(target(a), { secureTransport: "starttls", allowHalfOpen: true, ...tlsDefaults });
    const plain = new LineReader(s);
    const line = async (): Promise<string | null> => {
      const l = await plain.read();
      return l === null ? null : dec.decode(l);
    };
    const greeting = await line();
    await s.write("STARTTLS\n");
    const go = await line();
    // With a read pending (a.pendingRead), startTls() settles it (ECLOSED); workerd cannot upgrade then.
    const pending = a.pendingRead ? codeOf(() => s.read(new Uint8Array(16))) : Promise.resolve("none");
    const tls = s.startTls(a.serverName ? { serverName: a.serverName } : undefined);
    const pendingRead = await pending;
    if (a.pendingRead) return { pendingRead, opened: await codeOf(() => tls.opened) };
    const info = await tls.opened;
    const old = await codeOf(() => s.write("x"));
    await s.close(); // the old Socket is done; closing it leaves the TLS connection open
    const seen = await exchange(tls, a.bytes ?? 1000);
    await tls.close();
    return { greeting, go, info, old, ...seen, secureTransport: tls.secureTransport };
  },

  /** Writes made before opened, then closeWrite(): all sent, in order; a second concurrent read() is EINVAL. */
  async writeBeforeOpen(a) {
    const s = connect(typeof a.address === "string" ? a.address : target(a), { allowHalfOpen: true });
    const writes = ["one ", "two ", "three"].map((w) => s.write(w));
    const closing = s.closeWrite();
    const first = s.read(new Uint8Array(64));
    const second = await codeOf(() => s.read(new Uint8Array(64)));
    await Promise.all([...writes, closing]);
    const n = await first;
    const rest = await readAll(s);
    await s.close();
    return { second, echoed: (n ?? 0) + bytesOf(rest), info: await s.opened };
  },

  /** close() right after connect() cancels the connect: opened rejects with ECLOSED, closed resolves. */
  async closeWhileConnecting(a) {
    const s = connect(target(a));
    const closing = s.close();
    const opened = await codeOf(() => s.opened);
    await closing;
    return { opened, closed: await codeOf(() => s.closed) };
  },

  /** A pending read() is settled with ECLOSED by close(); a pending readable read ends the stream. */
  async closePending(a) {
    const s = connect(target(a));
    await s.opened;
    const pending = codeOf(() => s.read(new Uint8Array(8)));
    await s.close();
    const t = connect(target(a));
    await t.opened;
    const reader = t.readable.getReader();
    const streamRead = reader.read();
    await t.close();
    return {
      read: await pending,
      stream: await streamRead.then(
        (r) => (r.done ? "done" : "value"),
        (e) => String(e),
      ),
    };
  },

  /** await using closes the socket: the peer sees EOF. */
  async awaitUsing(a) {
    {
      await using s = connect(target(a));
      await s.write("bye");
    }
    return {};
  },

  /** writable.close() is a half-close: the peer sees EOF and can still answer. */
  async writableClose(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    const w = s.writable.getWriter();
    await w.write(enc.encode("question"));
    await w.close();
    const answer = dec.decode(concat(await readAll(s)));
    await s.close();
    return { answer };
  },

  /** Cancelling the readable stops reading but keeps the write side open. */
  async cancelReadable(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    await s.readable.cancel();
    await s.write("still writing");
    await s.closeWrite();
    await s.close();
    return {};
  },

  /** startTls() on a socket not made for it, or twice, is EINVAL. */
  async startTlsWrongState(a) {
    const plain = connect(target(a));
    const off = await codeOf(() => plain.startTls());
    await plain.close();
    const s = connect(target(a), { secureTransport: "starttls" });
    const tls = s.startTls();
    const twice = await codeOf(() => s.startTls());
    await tls.close();
    return { off, twice };
  },

  /**
   * Writes `chunk`-byte blocks (at most `tries`) to a peer that is gone, until one fails; then
   * `closed`'s outcome. `a.eofFirst`: the peer closed, wait for its EOF first. `a.control`: first
   * write `a.before` blocks, then ask the test to kill the peer (a line on a connection to that
   * port, which the test ends once the peer is dead).
   */
  async writeToGone(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    await s.opened;
    if (a.eofFirst) await readAll(s);
    const chunk = new Uint8Array(a.chunk ?? 65536);
    if (a.control) {
      for (let i = 0; i < (a.before ?? 0); i++) await s.write(chunk);
      await signal(a.control, "kill");
    }
    let write = "none";
    let writes = 0;
    for (; writes < (a.tries ?? 200) && write === "none"; writes++) write = await codeOf(() => s.write(chunk));
    const closed = await Promise.race([
      codeOf(() => s.closed),
      new Promise((r) => setTimeout(() => r("pending"), 2000)),
    ]);
    await s.close();
    return { write, writes, closed };
  },

  /**
   * Writes 1 MiB chunks to a peer that does not read, until one stays pending for 500 ms (at most
   * 256). Then tells the peer to start reading (a line on a second connection to `a.control`),
   * waits for that write, and closes: the peer counts what it got.
   */
  async backpressure(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    await s.opened;
    const chunk = new Uint8Array(1024 * 1024);
    let taken = 0;
    let blocked = false;
    let last: Promise<void> = Promise.resolve();
    for (let i = 0; i < 256 && !blocked; i++) {
      last = s.write(chunk);
      const r = await Promise.race([last.then(() => "done"), new Promise((r) => setTimeout(() => r("pending"), 500))]);
      if (r === "pending") blocked = true;
      else taken += chunk.byteLength;
    }
    const told = signal(a.control, "read");
    await last;
    await told;
    await s.closeWrite();
    await readAll(s); // the peer ends once it has read everything
    await s.close();
    return { blocked, taken };
  },

  /** Refills one buffer with i % 251 before each of `blocks` writes of `size` bytes. */
  async bufferReuse(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    const buf = new Uint8Array(a.size);
    for (let i = 0; i < a.blocks; i++) {
      buf.fill(i % 251);
      await s.write(buf);
    }
    await s.closeWrite();
    await readAll(s);
    await s.close();
    return {};
  },

  /** Two reads from a default reader ("first", then "next" asks the peer for "second"); the first chunk is decoded last. */
  async chunkOwnership(a) {
    const s = connect(target(a));
    const reader = s.readable.getReader();
    const first = await reader.read();
    await s.write("next");
    const second = await reader.read();
    const b = dec.decode(second.value);
    const out = { a: dec.decode(first.value), b };
    await s.close();
    return out;
  },

  /** A ReadableStream of `bytes` pattern bytes in 100 000-byte chunks piped into writable; readable read with for await. */
  async pipeTo(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    const data = pattern(a.bytes, 11);
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let o = 0; o < data.byteLength; o += 100_000) controller.enqueue(data.slice(o, o + 100_000));
        controller.close();
      },
    });
    const back = (async () => {
      const parts: Uint8Array[] = [];
      for await (const chunk of s.readable as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
      return parts;
    })();
    await source.pipeTo(s.writable);
    const parts = await back;
    await s.close();
    return { sent: await sha256([data]), received: await sha256(parts), receivedBytes: bytesOf(parts) };
  },

  /** Over TLS, sends `bytes` pattern bytes in 256 KiB writes while reading what the peer sends at the same time. */
  async tlsBothWays(a) {
    const s = connect(target(a), { secureTransport: "on", allowHalfOpen: true });
    const data = pattern(a.bytes, 3);
    const send = (async () => {
      for (let o = 0; o < data.byteLength; o += 256 * 1024) await s.write(data.subarray(o, o + 256 * 1024));
      await s.closeWrite();
    })();
    const [parts] = await Promise.all([readAll(s), send]);
    await s.close();
    return { sent: await sha256([data]), received: await sha256(parts), receivedBytes: bytesOf(parts) };
  },

  /**
   * The WebIDL dictionary rule: null/undefined options are the defaults (the connection opens);
   * anything else not an object, and fields of the wrong type (null included), throw EINVAL
   * synchronously from connect(). listen()/bind() get the same arguments: their codes are returned.
   */
  async webIdlOptions(a) {
    const sync = (f: () => unknown): string => {
      try {
        const r = f() as { close?: () => Promise<void> } | Promise<unknown>;
        if (r instanceof Promise) {
          r.catch(() => {});
          return "promise";
        }
        void r?.close?.();
        return "returned";
      } catch (err) {
        return err instanceof SocketError ? err.code : String(err);
      }
    };
    const opened: string[] = [];
    for (const o of [null, undefined]) {
      const s = connect(target(a), o as never);
      opened.push(await codeOf(() => s.opened));
      await s.close();
    }
    const connectBad: Record<string, string> = {};
    for (const [k, bad] of [
      ["5", 5],
      ["x", "x"],
      ["true", true],
      ["symbol", Symbol("s")],
    ] as const)
      connectBad[k] = sync(() => connect(target(a), bad as never));
    const fields: Record<string, string> = {};
    for (const field of [
      { keepAlive: null },
      { keepAlive: "yes" },
      { noDelay: null },
      { signal: "x" },
      { signal: {} },
      { signal: null },
      { secureTransport: null },
      { allowHalfOpen: 1 },
      { tls: null },
    ]) {
      fields[JSON.stringify(field)] = sync(() => connect(target(a), field as never));
    }
    const elsewhere: Record<string, string> = {};
    for (const bad of [
      null,
      undefined,
      5,
      "x",
      true,
      { hostname: null },
      { port: null },
      { ipv6Only: "no" },
      { signal: "x" },
      { signal: {} },
      { signal: null },
    ]) {
      elsewhere[`listen ${String(JSON.stringify(bad))}`] = await codeOf(() => listen(bad as never));
      elsewhere[`bind ${String(JSON.stringify(bad))}`] = await codeOf(() => bind(bad as never));
    }
    for (const bad of [{ noDelay: "yes" }, { allowHalfOpen: 1 }, { path: null }, { backlog: null }])
      elsewhere[`listen ${JSON.stringify(bad)}`] = await codeOf(() => listen(bad as never));
    for (const bad of [{ broadcast: 1 }, { reuseAddress: null }, { connect: null }, { receiveQueueBytes: null }])
      elsewhere[`bind ${JSON.stringify(bad)}`] = await codeOf(() => bind(bad as never));
    return { opened, connectBad, fields, elsewhere };
  },

  /** openssl s_server -rev: TLS with the trusted CA, then lines echoed reversed. */
  async opensslRoundTrip(a) {
    const s = connect(target(a), { secureTransport: "on" });
    const info = await s.opened;
    const lines: string[] = [];
    const reader = new LineReader(s);
    for (const line of a.lines as string[]) {
      await s.write(`${line}\n`);
      lines.push(dec.decode((await reader.read()) ?? new Uint8Array()).replace(/\r$/, ""));
    }
    await s.close();
    return { authorized: info.authorized, alpn: info.alpn, lines };
  },

  /** Behind a plaintext front ("220 ready", "STARTTLS", "220 go ahead"): startTls() to openssl s_server -rev, one line round trip. */
  async opensslStartTls(a) {
    const plain = connect(target(a), { secureTransport: "starttls" });
    const lines = new LineReader(plain);
    const line = async (r: LineReader): Promise<string> =>
      dec.decode((await r.read()) ?? new Uint8Array()).replace(/\r$/, "");
    const greeting = await line(lines);
    await plain.write("STARTTLS\r\n");
    const go = await line(lines);
    const secure = plain.startTls();
    const info = await secure.opened;
    await secure.write("upgraded\n");
    const back = await line(new LineReader(secure));
    await secure.close();
    return { greeting, go, authorized: info.authorized, back };
  },

  /** Everything workerd cannot do is ERR_UNSUPPORTED, never a silent no-op. */
  async unsupported(a) {
    const s = connect(target(a), { allowHalfOpen: true });
    await s.opened;
    const out = {
      listen: await codeOf(() => listen({ port: 0 })),
      listenTls: await codeOf(() => listen({ port: 0, tls: { cert: "-----BEGIN x", key: "-----BEGIN x" } })),
      bindUdp: await codeOf(() => bind({ hostname: "127.0.0.1" })),
      bindUnix: await codeOf(() => bind({ path: "/tmp/x.sock" })),
      connectUnix: await codeOf(() => connect({ path: "/tmp/x.sock" })),
      tlsCa: await codeOf(() =>
        connect(target(a), { secureTransport: "on", tls: { ca: "-----BEGIN CERTIFICATE-----" } }),
      ),
      clientCert: await codeOf(() =>
        connect(target(a), { secureTransport: "on", tls: { cert: "-----BEGIN x", key: "-----BEGIN x" } }),
      ),
      alpn: await codeOf(() => connect(target(a), { secureTransport: "on", tls: { alpn: ["h2"] } })),
      noVerify: await codeOf(() => connect(target(a), { secureTransport: "on", tls: { rejectUnauthorized: false } })),
      otherServerName: await codeOf(() =>
        connect(target(a), { secureTransport: "on", tls: { serverName: "other.example" } }),
      ),
      noDelayOption: await codeOf(() => connect(target(a), { noDelay: true })),
      keepAliveOption: await codeOf(() => connect(target(a), { keepAlive: true })),
      setNoDelay: await codeOf(() => s.setNoDelay(true)),
      setKeepAlive: await codeOf(() => s.setKeepAlive(true)),
      serverStartTls: await codeOf(() =>
        connect(target(a), { secureTransport: "starttls" }).startTls({
          server: { cert: "-----BEGIN x", key: "-----BEGIN x" },
        }),
      ),
      // abort() cannot reset: it closes at once and says so (capabilities.reset false).
      abort: await codeOf(() => s.writable.abort(new Error("drop"))),
    };
    await s.close();
    return out;
  },
};

export default {
  async fetch(request: Request): Promise<Response> {
    const { name, args } = (await request.json()) as { name: string; args: Args };
    const run = cases[name];
    if (run === undefined) return new Response(`no case ${name}`, { status: 404 });
    try {
      return Response.json({ ok: true, value: await run(args ?? {}) });
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      return Response.json({
        ok: false,
        error: {
          name: e?.name ?? "Error",
          code: err instanceof SocketError ? e.code : undefined,
          message: String(e?.message ?? err),
        },
      });
    }
  },
};
