/*
 * Every public function and option of unisock against the wrong kinds of value, in a process of
 * its own (see bad-input.test.ts), on the adapter of the runtime running it. Nothing else runs
 * here, so the descriptor count of /proc/self/fd around each call is exact; and an unhandled
 * rejection ends this process (exit code 4, and Node runs it with --unhandled-rejections=strict
 * too), so the report line is then missing.
 *
 * Each row: a call, a value, the expected result (EINVAL unless the value is valid there, the
 * signal's reason for an aborted signal, ERR_UNSUPPORTED where a capability is false), what
 * happened, whether the error came the right way (thrown by a synchronous call, a rejection from
 * one that returns a promise), and the descriptors before and after. Prints one JSON line.
 * Bounded: every call is given at most SETTLE_MS, the whole run DEADLINE_MS.
 *
 *   <no argument>   run the table
 *   unhandled       leave one rejection unhandled on purpose (the test checks this process dies)
 */
import { readdirSync } from "node:fs";
import type * as Unisock from "../../src/node.ts";

const g = globalThis as { Deno?: { args: string[]; exit(code: number): never }; Bun?: unknown };
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const u = (await import(`../../src/${runtime}.ts`)) as typeof Unisock;
const mode = (g.Deno?.args ?? process.argv.slice(2))[0];

// Fatal on every runtime, whatever its default: Bun, left to itself, holds back a rejection raised
// while a module's top-level await runs, and exits 0 before reporting it.
process.on("unhandledRejection", (err) => {
  console.log(JSON.stringify({ unhandledRejection: String((err as Error | null)?.stack ?? err) }));
  process.exit(4);
});

const SETTLE_MS = 2000;
/** How long an accepted pending call (an accept or receive with nothing to take) is watched. */
const PENDING_MS = 50;
const DEADLINE_MS = 100_000;
setTimeout(() => {
  console.log(JSON.stringify({ error: "deadline reached" }));
  process.exit(3);
}, DEADLINE_MS);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const REASON = new Error("the signal's own reason");
const fakeSignal = {
  aborted: false,
  reason: undefined,
  addEventListener() {},
  removeEventListener() {},
  throwIfAborted() {},
};

/** The wrong kinds of value (and a few right ones): each is tried in every place. */
const KINDS: Array<[string, () => unknown]> = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["0", () => 0],
  ["-1", () => -1],
  ["1.5", () => 1.5],
  ["NaN", () => Number.NaN],
  ["Infinity", () => Number.POSITIVE_INFINITY],
  ["2**53", () => 2 ** 53],
  ["1e100", () => 1e100],
  ["1n", () => 1n],
  ['"x"', () => "x"],
  ['""', () => ""],
  ['"80"', () => "80"],
  ["true", () => true],
  ["{}", () => ({})],
  ["[]", () => []],
  ["Object.create(null)", () => Object.create(null)],
  ["a function", () => () => {}],
  ["a symbol", () => Symbol("s")],
  ["a fake signal", () => fakeSignal],
  ["an aborted signal", () => AbortSignal.abort(REASON)],
];

type Expect = "EINVAL" | "ok" | "reason" | "any" | "ERR_UNSUPPORTED" | "skip";
type Rule = (v: unknown) => Expect;

const isDict = (v: unknown): boolean =>
  v === undefined || v === null || typeof v === "object" || typeof v === "function";
/** An options argument: undefined, null and any object are fine (WebIDL), the rest EINVAL. */
const dict: Rule = (v) => (isDict(v) ? "ok" : "EINVAL");
/** A field: absent is fine; else `valid` says. */
const field =
  (valid: (v: unknown) => Expect | boolean): Rule =>
  (v) => {
    if (v === undefined) return "ok";
    const r = valid(v);
    return r === true ? "ok" : r === false ? "EINVAL" : r;
  };
const signal: Rule = field((v) => (v instanceof AbortSignal && v.aborted ? "reason" : false));
const flag: Rule = field((v) => typeof v === "boolean");
const never: Rule = field(() => false);
/** Every value is wrong here, undefined included. */
const none: Rule = () => "EINVAL";
/** A string that would make a file or a DNS query: not tried. */
const noNames =
  (rule: Rule): Rule =>
  (v) =>
    v === "x" || v === "80" ? "skip" : rule(v);
const whereCapable =
  (capable: boolean, rule: Rule): Rule =>
  (v) =>
    capable ? rule(v) : rule(v) === "skip" ? "skip" : "ERR_UNSUPPORTED";

interface Target {
  name: string;
  /** The call is synchronous: its errors must be thrown, not returned as a rejected promise. */
  sync: boolean;
  rule: Rule;
  /** A result that may stay pending when the value is fine (an accept with no client). */
  mayPend?: boolean;
  /** A fixture made for each row (outside the descriptor count), closed after it. */
  fresh?: () => Promise<Closable>;
  run(v: unknown, fresh: Closable | undefined): unknown;
}

interface Closable {
  close(): Promise<void> | void;
}

// The world the calls act on: a server, a connected pair with data waiting, datagram sockets.
const opened: Closable[] = [];
function keep<T extends Closable>(x: T): T {
  opened.push(x);
  return x;
}
const server = keep(await u.listen({ hostname: "127.0.0.1" }));
const port = (server.addr as Unisock.NetAddr).port;
void (async () => {
  for await (const s of server)
    void s
      .read(new Uint8Array(1))
      .catch(() => {})
      .finally(() => void s.close());
})().catch(() => {});
const addr = { hostname: "127.0.0.1", port };

/** A connection to a listener of its own, whose server side sends `lines` lines ("a\n") at once. */
async function pair(
  lines = 0,
  options?: Unisock.ConnectOptions,
): Promise<{ c: Unisock.Socket; close(): Promise<void> }> {
  const l = await u.listen({ hostname: "127.0.0.1" });
  const accepted = l.accept();
  const c = u.connect({ hostname: "127.0.0.1", port: (l.addr as Unisock.NetAddr).port }, options);
  await c.opened;
  const s = await accepted;
  if (lines > 0) void s.write("a\n".repeat(lines)).catch(() => {});
  void s.read(new Uint8Array(64 * 1024)).catch(() => {});
  return {
    c,
    close: async () => {
      await Promise.all([c.close(), s.close(), l.close()]);
    },
  };
}
const reading = keep(await pair(100_000));
const lines = keep(await pair(100_000));
const lineReader = new u.LineReader(lines.c);
const writing = keep(await pair());
const acceptor = keep(await u.listen({ hostname: "127.0.0.1" }));
const dgram = keep(await u.bind({ hostname: "127.0.0.1" }));
const dgramPeer = keep(await u.bind({ hostname: "127.0.0.1" }));
const dgramTo = { hostname: "127.0.0.1", port: (dgramPeer.localAddress as Unisock.NetAddr).port };
const { capabilities: caps } = u;
// Warm-up: Deno opens two descriptors of its own (for good) a moment after the first connect
// closed while connecting; let the runtime do that before anything is counted.
for (let i = 0; i < 20; i++) await u.connect(addr).close();
await sleep(1000);
const buf = (): Uint8Array => new Uint8Array(1);

const any = <T>(v: unknown): T => v as T;
const TARGETS: Target[] = [
  // connect
  { name: "connect(address)", sync: true, rule: none, run: (v) => u.connect(any(v)) },
  { name: "connect(addr, options)", sync: true, rule: dict, run: (v) => u.connect(addr, any(v)) },
  {
    name: "connect(addr, { signal })",
    sync: true,
    rule: signal,
    run: (v) => opening(u.connect(addr, { signal: any(v) })),
  },
  {
    name: "connect(addr, { secureTransport })",
    sync: true,
    rule: never,
    run: (v) => u.connect(addr, { secureTransport: any(v) }),
  },
  { name: "connect(addr, { tls })", sync: true, rule: never, run: (v) => u.connect(addr, { tls: any(v) }) },
  {
    name: "connect(addr, { allowHalfOpen })",
    sync: true,
    rule: flag,
    run: (v) => u.connect(addr, { allowHalfOpen: any(v) }),
  },
  { name: "connect(addr, { noDelay })", sync: true, rule: flag, run: (v) => u.connect(addr, { noDelay: any(v) }) },
  {
    name: "connect(addr, { keepAlive })",
    sync: true,
    rule: field((v) => v === true),
    run: (v) => u.connect(addr, { keepAlive: any(v) }),
  },
  {
    name: "connect(addr, { keepAlive: { delayMs } })",
    sync: true,
    rule: (v) => (v === 0 ? "ok" : "EINVAL"),
    run: (v) => u.connect(addr, { keepAlive: { delayMs: any(v) } }),
  },
  // listen
  { name: "listen(options)", sync: false, rule: dict, run: (v) => u.listen(any(v)) },
  { name: "listen({ hostname })", sync: false, rule: noNames(never), run: (v) => u.listen({ hostname: any(v) }) },
  {
    name: "listen({ port })",
    sync: false,
    rule: field((v) => v === 0),
    run: (v) => u.listen({ hostname: "127.0.0.1", port: any(v) }),
  },
  { name: "listen({ path })", sync: false, rule: noNames(never), run: (v) => u.listen({ path: any(v) }) },
  {
    name: "listen({ backlog })",
    sync: false,
    rule: never,
    run: (v) => u.listen({ hostname: "127.0.0.1", backlog: any(v) }),
  },
  {
    name: "listen({ reusePort })",
    sync: false,
    rule: field((v) => (v === true ? (caps.reusePort ? "ok" : "ERR_UNSUPPORTED") : false)),
    run: (v) => u.listen({ hostname: "127.0.0.1", reusePort: any(v) }),
  },
  {
    name: "listen({ ipv6Only })",
    sync: false,
    rule: field((v) => (v === true ? (caps.ipv6Only ? "ok" : "ERR_UNSUPPORTED") : false)),
    run: (v) => u.listen({ hostname: "::1", ipv6Only: any(v) }),
  },
  {
    name: "listen({ allowHalfOpen })",
    sync: false,
    rule: flag,
    run: (v) => u.listen({ hostname: "127.0.0.1", allowHalfOpen: any(v) }),
  },
  {
    name: "listen({ noDelay })",
    sync: false,
    rule: flag,
    run: (v) => u.listen({ hostname: "127.0.0.1", noDelay: any(v) }),
  },
  { name: "listen({ tls })", sync: false, rule: never, run: (v) => u.listen({ hostname: "127.0.0.1", tls: any(v) }) },
  {
    name: "listen({ secureTransport })",
    sync: false,
    rule: never,
    run: (v) => u.listen({ hostname: "127.0.0.1", secureTransport: any(v) }),
  },
  {
    name: "listen({ signal })",
    sync: false,
    rule: signal,
    run: (v) => u.listen({ hostname: "127.0.0.1", signal: any(v) }),
  },
  // bind
  { name: "bind(options)", sync: false, rule: dict, run: (v) => u.bind(any(v)) },
  { name: "bind({ hostname })", sync: false, rule: noNames(never), run: (v) => u.bind({ hostname: any(v) }) },
  {
    name: "bind({ port })",
    sync: false,
    rule: field((v) => v === 0),
    run: (v) => u.bind({ hostname: "127.0.0.1", port: any(v) }),
  },
  { name: "bind({ path })", sync: false, rule: noNames(never), run: (v) => u.bind({ path: any(v) }) },
  {
    name: "bind({ connect })",
    sync: false,
    rule: never,
    run: (v) => u.bind({ hostname: "127.0.0.1", connect: any(v) }),
  },
  {
    name: "bind({ reuseAddress })",
    sync: false,
    rule: flag,
    run: (v) => u.bind({ hostname: "127.0.0.1", reuseAddress: any(v) }),
  },
  { name: "bind({ ipv6Only })", sync: false, rule: flag, run: (v) => u.bind({ hostname: "::1", ipv6Only: any(v) }) },
  {
    name: "bind({ broadcast })",
    sync: false,
    rule: flag,
    run: (v) => u.bind({ hostname: "127.0.0.1", broadcast: any(v) }),
  },
  {
    name: "bind({ recvBufferSize })",
    sync: false,
    rule: never,
    run: (v) => u.bind({ hostname: "127.0.0.1", recvBufferSize: any(v) }),
  },
  {
    name: "bind({ sendBufferSize })",
    sync: false,
    rule: never,
    run: (v) => u.bind({ hostname: "127.0.0.1", sendBufferSize: any(v) }),
  },
  {
    name: "bind({ receiveQueueBytes })",
    sync: false,
    rule: never,
    run: (v) => u.bind({ hostname: "127.0.0.1", receiveQueueBytes: any(v) }),
  },
  {
    name: "bind({ signal })",
    sync: false,
    rule: signal,
    run: (v) => u.bind({ hostname: "127.0.0.1", signal: any(v) }),
  },
  // a connected socket
  { name: "socket.read(into)", sync: false, rule: none, run: (v) => reading.c.read(any(v)) },
  { name: "socket.read(into, options)", sync: false, rule: dict, run: (v) => reading.c.read(buf(), any(v)) },
  {
    name: "socket.read(into, { signal })",
    sync: false,
    rule: signal,
    run: (v) => reading.c.read(buf(), { signal: any(v) }),
  },
  {
    name: "socket.write(data)",
    sync: false,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    run: (v) => writing.c.write(any(v)),
  },
  { name: "socket.write(data, options)", sync: false, rule: dict, run: (v) => writing.c.write("x", any(v)) },
  {
    name: "socket.write(data, { signal })",
    sync: false,
    rule: signal,
    run: (v) => writing.c.write("x", { signal: any(v) }),
  },
  { name: "socket.setNoDelay(on)", sync: true, rule: flag, run: (v) => writing.c.setNoDelay(any(v)) },
  {
    name: "socket.setKeepAlive(on)",
    sync: true,
    rule: (v) => (typeof v === "boolean" ? "ok" : "EINVAL"),
    run: (v) => writing.c.setKeepAlive(any(v)),
  },
  {
    name: "socket.setKeepAlive(true, delayMs)",
    sync: true,
    rule: field((v) => v === 0),
    run: (v) => writing.c.setKeepAlive(true, any(v)),
  },
  {
    name: "socket.startTls(options)",
    sync: true,
    rule: dict,
    fresh: () => pair(0, { secureTransport: "starttls" }),
    run: (v, p) => handshaking((p as Awaited<ReturnType<typeof pair>>).c.startTls(any(v))),
  },
  {
    name: "socket.writable: write(chunk)",
    sync: false,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    fresh: () => pair(),
    run: (v, p) => (p as Awaited<ReturnType<typeof pair>>).c.writable.getWriter().write(any(v)),
  },
  { name: "listener.accept(options)", sync: false, rule: dict, mayPend: true, run: (v) => acceptor.accept(any(v)) },
  {
    name: "listener.accept({ signal })",
    sync: false,
    rule: signal,
    mayPend: true,
    run: (v) => acceptor.accept({ signal: any(v) }),
  },
  // a datagram socket
  {
    name: "datagram.send(data, to)",
    sync: false,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    run: (v) => dgram.send(any(v), dgramTo),
  },
  { name: "datagram.send(data, to: bad)", sync: false, rule: none, run: (v) => dgram.send("x", any(v)) },
  { name: "datagram.receive(options)", sync: false, rule: dict, mayPend: true, run: (v) => dgram.receive(any(v)) },
  {
    name: "datagram.receive({ signal })",
    sync: false,
    rule: signal,
    mayPend: true,
    run: (v) => dgram.receive({ signal: any(v) }),
  },
  {
    name: "datagram.setBroadcast(on)",
    sync: true,
    rule: (v) => (typeof v === "boolean" ? "ok" : "EINVAL"),
    run: (v) => dgram.setBroadcast(any(v)),
  },
  {
    name: "datagram.setTTL(ttl)",
    sync: true,
    rule: whereCapable(caps.datagramTTL, none),
    run: (v) => dgram.setTTL(any(v)),
  },
  {
    name: "multicast.join(group)",
    sync: false,
    rule: whereCapable(caps.multicast, none),
    run: (v) => dgram.multicast.join(any(v)),
  },
  {
    name: "multicast.join(group, iface)",
    sync: false,
    rule: (v) => (v === undefined ? "skip" : whereCapable(caps.multicast, none)(v)),
    run: (v) => dgram.multicast.join("239.1.2.3", any(v)),
  },
  {
    name: "multicast.leave(group)",
    sync: false,
    rule: whereCapable(caps.multicast, none),
    run: (v) => dgram.multicast.leave(any(v)),
  },
  {
    name: "multicast.setTTL(ttl)",
    sync: true,
    rule: whereCapable(caps.multicast, none),
    run: (v) => dgram.multicast.setTTL(any(v)),
  },
  {
    name: "multicast.setLoopback(on)",
    sync: true,
    rule: whereCapable(caps.multicast, (v) => (typeof v === "boolean" ? "ok" : "EINVAL")),
    run: (v) => dgram.multicast.setLoopback(any(v)),
  },
  {
    name: "multicast.setInterface(addr)",
    sync: true,
    rule: whereCapable(caps.multicast, none),
    run: (v) => dgram.multicast.setInterface(any(v)),
  },
  {
    name: "datagram.writable: write(chunk)",
    sync: false,
    rule: none,
    fresh: () => u.bind({ hostname: "127.0.0.1" }),
    run: (v, d) => (d as Unisock.DatagramSocket).writable.getWriter().write(any(v)),
  },
  // framing
  { name: "readExactly(source, n)", sync: false, rule: none, run: (v) => u.readExactly(any(v), 1) },
  {
    name: "readExactly(socket, n)",
    sync: false,
    rule: (v) => (v === 0 ? "ok" : "EINVAL"),
    run: (v) => u.readExactly(reading.c, any(v)),
  },
  { name: "readExactly(socket, 1, options)", sync: false, rule: dict, run: (v) => u.readExactly(reading.c, 1, any(v)) },
  { name: "new LineReader(source)", sync: true, rule: none, run: (v) => new u.LineReader(any(v)) },
  { name: "new LineReader(socket, options)", sync: true, rule: dict, run: (v) => new u.LineReader(reading.c, any(v)) },
  {
    name: "new DelimitedReader(socket, options)",
    sync: true,
    rule: dict,
    run: (v) => new u.DelimitedReader(reading.c, any(v)),
  },
  {
    name: "new LengthPrefixedReader(socket, options)",
    sync: true,
    rule: dict,
    run: (v) => new u.LengthPrefixedReader(reading.c, any(v)),
  },
  { name: "reader.read(options)", sync: false, rule: dict, run: (v) => lineReader.read(any(v)) },
  { name: "reader.read({ signal })", sync: false, rule: signal, run: (v) => lineReader.read({ signal: any(v) }) },
  { name: "writeDelimited(sink, message)", sync: false, rule: none, run: (v) => u.writeDelimited(any(v), "x") },
  {
    name: "writeDelimited(socket, message)",
    sync: false,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    run: (v) => u.writeDelimited(writing.c, any(v)),
  },
  {
    name: "writeDelimited(socket, message, options)",
    sync: false,
    rule: dict,
    run: (v) => u.writeDelimited(writing.c, "x", any(v)),
  },
  { name: "writeFrame(sink, payload)", sync: false, rule: none, run: (v) => u.writeFrame(any(v), "x") },
  {
    name: "writeFrame(socket, payload)",
    sync: false,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    run: (v) => u.writeFrame(writing.c, any(v)),
  },
  {
    name: "writeFrame(socket, payload, options)",
    sync: false,
    rule: dict,
    run: (v) => u.writeFrame(writing.c, "x", any(v)),
  },
  {
    name: "writeFrame(socket, payload, { signal })",
    sync: false,
    rule: signal,
    run: (v) => u.writeFrame(writing.c, "x", { signal: any(v) }),
  },
  {
    name: "encodeDelimited(message)",
    sync: true,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    run: (v) => u.encodeDelimited(any(v)),
  },
  { name: "encodeDelimited(message, options)", sync: true, rule: dict, run: (v) => u.encodeDelimited("m", any(v)) },
  {
    name: "encodeDelimited(m, { delimiter })",
    sync: true,
    rule: field((v) => typeof v === "string" && v !== ""),
    run: (v) => u.encodeDelimited("m", { delimiter: any(v) }),
  },
  {
    name: "encodeDelimited(m, { stripCR })",
    sync: true,
    rule: flag,
    run: (v) => u.encodeDelimited("m", { stripCR: any(v) }),
  },
  {
    name: "encodeFrame(payload)",
    sync: true,
    rule: (v) => (typeof v === "string" ? "ok" : "EINVAL"),
    run: (v) => u.encodeFrame(any(v)),
  },
  { name: "encodeFrame(payload, options)", sync: true, rule: dict, run: (v) => u.encodeFrame("p", any(v)) },
  {
    name: "encodeFrame(p, { headerBytes })",
    sync: true,
    rule: never,
    run: (v) => u.encodeFrame("p", { headerBytes: any(v) }),
  },
  { name: "encodeFrame(p, { endian })", sync: true, rule: never, run: (v) => u.encodeFrame("p", { endian: any(v) }) },
  {
    name: "new DelimiterDecoderStream({ maxMessageBytes })",
    sync: true,
    rule: field((v) => v === 0),
    run: (v) => new u.DelimiterDecoderStream({ maxMessageBytes: any(v) }),
  },
  {
    name: "new LineDecoderStream({ unterminated })",
    sync: true,
    rule: never,
    run: (v) => new u.LineDecoderStream({ unterminated: any(v) }),
  },
  {
    name: "new LengthPrefixDecoderStream({ maxFrameBytes })",
    sync: true,
    rule: field((v) => v === 0),
    run: (v) => new u.LengthPrefixDecoderStream({ maxFrameBytes: any(v) }),
  },
  { name: "new LineDecoderStream(options)", sync: true, rule: dict, run: (v) => new u.LineDecoderStream(any(v)) },
  {
    name: "new DelimiterDecoderStream(options)",
    sync: true,
    rule: dict,
    run: (v) => new u.DelimiterDecoderStream(any(v)),
  },
  {
    name: "new LengthPrefixDecoderStream(options)",
    sync: true,
    rule: dict,
    run: (v) => new u.LengthPrefixDecoderStream(any(v)),
  },
  { name: "new LineEncoderStream(options)", sync: true, rule: dict, run: (v) => new u.LineEncoderStream(any(v)) },
  {
    name: "new DelimiterEncoderStream(options)",
    sync: true,
    rule: dict,
    run: (v) => new u.DelimiterEncoderStream(any(v)),
  },
  {
    name: "new LengthPrefixEncoderStream(options)",
    sync: true,
    rule: dict,
    run: (v) => new u.LengthPrefixEncoderStream(any(v)),
  },
];

/** A Socket whose failure to open is the call's outcome (connect reports a signal's abort through `opened`). */
function opening(s: Unisock.Socket): Promise<Unisock.Socket> {
  return s.opened.then(
    () => s,
    async (err: unknown) => {
      await s.close();
      throw err;
    },
  );
}

/** startTls against a server that speaks no TLS: only whether the call took its options counts; the Socket is closed. */
function handshaking(s: Unisock.Socket): Unisock.Socket {
  s.opened.catch(() => {});
  return s;
}

function fds(): number {
  return readdirSync("/proc/self/fd").length;
}

function outcomeOf(err: unknown): string {
  if (err === REASON) return "reason";
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (e?.name === "SocketError") return String(e.code);
  return `not a SocketError: ${String(e?.name)}: ${String(e?.message)}`;
}

/** One JSON line on stdout, flushed before the process exits (a pipe is written asynchronously). */
function print(report: unknown): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify(report)}\n`, () => resolve()));
}

async function closeResult(value: unknown): Promise<void> {
  const c = (value as Partial<Closable> | null)?.close;
  if (typeof c === "function") await Promise.resolve(c.call(value)).catch(() => {});
}

interface Row {
  target: string;
  kind: string;
  expected: Expect;
  outcome: string;
  /** "thrown" or "rejected" for an error; "returned" or "resolved" or "pending" otherwise. */
  how: string;
  sync: boolean;
  fdsBefore: number;
  fdsAfter: number;
}

async function runRow(t: Target, kind: string, v: unknown, expected: Expect): Promise<Row> {
  const fixture = t.fresh ? await t.fresh() : undefined;
  const fdsBefore = fds();
  let outcome = "ok";
  let how = "returned";
  let result: unknown;
  try {
    result = t.run(v, fixture);
  } catch (err) {
    outcome = outcomeOf(err);
    how = "thrown";
  }
  if (result instanceof Promise) {
    const p: Promise<unknown> = result;
    result = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), t.mayPend ? PENDING_MS : SETTLE_MS)));
    const settled = await Promise.race([
      p.then(
        (value) => ({ value }),
        (err: unknown) => ({ err }),
      ),
      late,
    ]);
    clearTimeout(timer);
    if (settled === "late") {
      how = "pending";
      outcome = t.mayPend ? "ok" : "hang";
      p.then(closeResult, () => {}); // settled when its socket closes at the end
    } else if ("err" in settled) {
      outcome = outcomeOf(settled.err);
      how = "rejected";
    } else {
      how = "resolved";
      result = settled.value;
    }
  }
  await closeResult(result);
  // A descriptor closed a moment after close() resolves (Deno) may take a little while.
  let fdsAfter = fds();
  for (let waited = 0; fdsAfter > fdsBefore && waited < 1500; waited += 25) {
    await sleep(25);
    fdsAfter = fds();
  }
  if (fixture) await fixture.close();
  return { target: t.name, kind, expected, outcome, how, sync: t.sync, fdsBefore, fdsAfter };
}

if (mode === "unhandled") {
  void Promise.reject(new Error("left unhandled on purpose"));
  await sleep(500);
  await print({ survived: true });
} else {
  const rows: Row[] = [];
  for (const t of TARGETS) {
    for (const [kind, make] of KINDS) {
      const v = make();
      const expected = t.rule(v);
      if (expected === "skip") continue;
      rows.push(await runRow(t, kind, v, expected));
    }
  }
  await Promise.all(opened.map((x) => x.close()));
  await sleep(100);
  await print({ runtime, targets: TARGETS.length, rows });
}
process.exit(0);
