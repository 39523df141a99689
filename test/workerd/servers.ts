/**
 * Loopback servers (node:net / node:tls) that the workerd tests' worker connects to. Each records
 * what it received; `closeAll()` closes them and their connections.
 */
import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { server as serverCert } from "../helpers/tls-fixtures.ts";

export interface Served {
  port: number;
  /** SHA-256 and length of what each connection received, once it ended. */
  received: { sha256: string; bytes: number; text: string }[];
}

const servers: (net.Server | tls.Server)[] = [];
const sockets = new Set<net.Socket>();

type Handler = (socket: net.Socket, seen: Served["received"]) => void;

/** Hashes what arrives; calls `done` with it at the peer's FIN. */
export function collect(socket: net.Socket, seen: Served["received"], done: (data: Buffer) => void = () => {}): void {
  const parts: Buffer[] = [];
  socket.on("data", (c: Buffer) => parts.push(c));
  socket.on("end", () => {
    const all = Buffer.concat(parts);
    seen.push({
      sha256: createHash("sha256").update(all).digest("hex"),
      bytes: all.byteLength,
      text: all.byteLength < 1024 ? all.toString() : "",
    });
    done(all);
  });
  socket.on("error", () => {});
}

export async function serve(
  handler: Handler,
  options: { tls?: { cert: string; key: string }; host?: string } = {},
): Promise<Served> {
  const received: Served["received"] = [];
  const onConn = (s: net.Socket): void => handler(s, received);
  const srv = options.tls
    ? tls.createServer({ ...options.tls, allowHalfOpen: true }, onConn)
    : net.createServer({ allowHalfOpen: true }, onConn);
  servers.push(srv);
  // Every raw connection, TLS ones that never finished their handshake included, for closeAll().
  srv.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, options.host ?? "127.0.0.1", resolve));
  return { port: (srv.address() as net.AddressInfo).port, received };
}

/** Echoes every byte as it comes, and ends when the client ends. */
export const echo: Handler = (s, seen) => {
  s.on("data", (c: Buffer) => s.write(c));
  collect(s, seen, () => s.end());
};

/** A port nothing listens on (listened on, then closed). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * Calls `then(line)` once with the first line `s` receives (without its "\r\n"), and stops
 * listening for data (the client sends nothing more until it is answered).
 */
export function firstLine(s: net.Socket, then: (line: string) => void): void {
  s.on("error", () => {});
  let buf = "";
  const onData = (c: Buffer): void => {
    buf += c.toString("latin1");
    const nl = buf.indexOf("\n");
    if (nl < 0) return;
    s.off("data", onData);
    then(buf.slice(0, nl).replace(/\r$/, ""));
  };
  s.on("data", onData);
}

/** Plaintext "READY", waits for "STARTTLS", answers "GO", then serves TLS echo (with `cert`) on the same connection. */
export const startTlsEcho =
  (cert: { cert: string; key: string } = serverCert): Handler =>
  (s, seen) => {
    s.write("READY\n");
    firstLine(s, (line) => {
      if (line !== "STARTTLS") return void s.end("what?\n");
      s.write("GO\n");
      const t = new tls.TLSSocket(s, { isServer: true, ...cert });
      t.on("data", (c2: Buffer) => t.write(c2));
      collect(t as unknown as net.Socket, seen, () => t.end());
    });
  };

/**
 * A control server for cases that need the test to act in the middle (kill a peer, start
 * reading): the line a worker sends runs `act(line)`, then the connection ends, which tells the
 * worker it is done.
 */
export function control(act: (line: string) => void | Promise<void>): Promise<Served> {
  return serve((s) => firstLine(s, (line) => void Promise.resolve(act(line)).then(() => s.end())));
}

export async function closeAll(): Promise<void> {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((srv) => new Promise((resolve) => srv.close(resolve))));
}
