/** Shared pieces of the TLS conformance tests: written against the public API only. */
import { type ChildProcess, spawn } from "node:child_process";
import type { Listener, ListenOptions, Socket, SocketError, TlsClientOptions, TlsServerOptions } from "unisock";
import { connect, listen } from "unisock";
import { expectCode, portOf } from "./streams.ts";
import * as certs from "./tls-fixtures.ts";
import { needTool, type SkipContext } from "./tools.ts";

/**
 * A feature the runtime lacks must fail with ERR_UNSUPPORTED, thrown by the call or, for a call
 * that returns a Socket, rejected by its `opened`: never a silent no-op.
 */
export function expectUnsupported(action: () => unknown): Promise<SocketError> {
  return expectCode(async () => {
    const r = action();
    if (r !== null && typeof r === "object" && "opened" in r) {
      const socket = r as Socket;
      try {
        await socket.opened;
      } finally {
        await socket.close();
      }
    } else await r;
  }, "ERR_UNSUPPORTED");
}

export { unsupportedHere } from "./unsupported.ts";

/** A TLS listener on 127.0.0.1 with the test server certificate unless `tls` says otherwise. */
export function tlsListen(tls: Partial<TlsServerOptions> = {}, options: ListenOptions = {}): Promise<Listener> {
  return listen({ hostname: "127.0.0.1", ...options, tls: { ...certs.server, ...tls } });
}

/**
 * Runs `handler` on every connection `listener` accepts, then closes the connection. A handler's
 * failure is kept, not thrown: `errors` lists them for tests that care.
 */
export function serve(listener: Listener, handler: (s: Socket) => Promise<void>): { errors: unknown[] } {
  const errors: unknown[] = [];
  void (async () => {
    for await (const s of listener) {
      void (async () => {
        try {
          await handler(s);
        } catch (err) {
          errors.push(err);
        } finally {
          await s.close();
        }
      })();
    }
  })().catch((err: unknown) => errors.push(err));
  return { errors };
}

/** Copies `from` to `to` until EOF, then half-closes `to`. */
export async function pump(from: Socket, to: Socket): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    await to.write(buf.slice(0, n));
  }
  await to.closeWrite();
}

/** Joins two connections byte for byte, both ways, until both ends are done. */
export async function splice(a: Socket, b: Socket): Promise<void> {
  await Promise.allSettled([pump(a, b), pump(b, a)]);
}

/**
 * A plaintext SMTP-like front for `backend` (a TLS listener, or the port of one): it greets with "220 ready", answers
 * "STARTTLS" with "220 go ahead", then joins the connection to `backend` byte for byte, so the
 * client's TLS handshake runs against `backend`. A STARTTLS server made of parts every runtime with
 * TLS has, for testing the client's startTls() without the server's.
 */
export async function starttlsFront(backend: Listener | number): Promise<Listener> {
  const port = typeof backend === "number" ? backend : portOf(backend.addr);
  const front = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
  serve(front, async (s) => {
    await s.write("220 ready\r\n");
    if ((await readLine(s)) !== "STARTTLS") return void (await s.write("500 what?\r\n"));
    await s.write("220 go ahead\r\n");
    await using b = connect({ hostname: "127.0.0.1", port }, { allowHalfOpen: true });
    await splice(s, b);
  });
  return front;
}

/**
 * Runs a TLS client over an existing plaintext connection without the client's startTls(): a
 * local relay joins a fresh TLS connection to it. For testing a server's startTls() alone.
 */
export async function tlsThrough(plain: Socket, tls: TlsClientOptions): Promise<Socket> {
  const relay = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
  const accepted = relay.accept();
  const client = connect(
    { hostname: "127.0.0.1", port: portOf(relay.addr) },
    { secureTransport: "on", tls: { serverName: "localhost", ...tls }, allowHalfOpen: true },
  );
  const r = await accepted;
  await relay.close();
  void splice(r, plain).finally(() => Promise.all([r.close(), plain.close()]));
  return client;
}

/** Reads one line ending in "\n" (returned without it), byte by byte so nothing after it is taken. */
export async function readLine(socket: Socket): Promise<string> {
  const one = new Uint8Array(1);
  let line = "";
  for (;;) {
    const n = await socket.read(one);
    if (n === null) throw new Error(`EOF before the end of the line ${JSON.stringify(line)}`);
    const c = String.fromCharCode(one[0]!);
    if (c === "\n") return line.endsWith("\r") ? line.slice(0, -1) : line;
    line += c;
  }
}

/** A port on 127.0.0.1 where nothing listens (a listener was there a moment ago). */
export async function closedPort(): Promise<number> {
  const l = await listen({ hostname: "127.0.0.1" });
  const port = portOf(l.addr);
  await l.close();
  return port;
}

export interface Child {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when `pattern` appears in the output (fails after `ms` or if the process exits). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** Kills the process by its pid (idempotent). */
  kill(): void;
}

/**
 * Starts a process (an openssl peer) bounded in time: killed by its pid after `limitMs` at the
 * latest, and by `kill()` at the end of the test.
 */
export function start(command: string, args: string[], limitMs = 20_000): Child {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const listeners = new Set<() => void>();
  const collect = (d: Uint8Array): void => {
    out += new TextDecoder().decode(d);
    for (const l of listeners) l();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<number | null>((resolve) => {
    // "close": what it printed last may still be in the pipe when "exit" comes.
    child.once("close", (code) => {
      clearTimeout(limit);
      resolve(code);
      for (const l of listeners) l();
    });
    child.once("error", (err) => {
      out += String(err);
      resolve(null);
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const kill = (): void => {
    if (gone || child.pid === undefined) return;
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const limit = setTimeout(kill, limitMs);
  return {
    child,
    output: () => out,
    exited,
    kill,
    waitFor(pattern, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.match(pattern);
          if (m) {
            done();
            resolve(m);
          } else if (gone) {
            done();
            reject(new Error(`${command} exited before printing ${pattern}:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${command} did not print ${pattern} within ${ms} ms:\n${out}`));
        }, ms);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** `openssl s_client` to 127.0.0.1:port, verifying the server with the test CA. */
export function sClient(ctx: SkipContext, port: number, extra: string[] = []): Child {
  return start(needTool(ctx, "openssl"), [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-CAfile",
    certs.fixturePath("ca.pem"),
    "-verify_return_error",
    "-servername",
    "localhost",
    "-brief",
    ...extra,
  ]);
}
