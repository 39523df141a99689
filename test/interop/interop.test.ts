/**
 * Interop across runtimes. The runtime running this suite is the server, in this process, through
 * unisock; the clients are test/interop/client.ts run as children under node, deno and bun. Over
 * the suite's three runs (one per runtime) every server/client pair is covered exactly once.
 *
 * Per pair: a TCP echo of 16 MiB of random bytes (SHA-256 of what each side sent and received),
 * a half-close (the server answers only after the client's FIN), an echo over a Unix socket, and a
 * UDP datagram echo; where a side has no UDP (`capabilities.udp` false) it must say ERR_UNSUPPORTED.
 * A Cloudflare Workers client (unisock/workerd inside a local workerd, test/workerd/harness.ts)
 * connects to the same servers, and to a TLS and a STARTTLS server, in each runtime's run.
 */
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  bind,
  capabilities,
  type DatagramSocket,
  LineReader,
  type Listener,
  listen,
  runtime,
  type Socket,
} from "unisock";
import { currentRuntime, killChildren, RUNTIMES, type RuntimeName, startScript } from "../examples/_children.ts";
import { expectCode, tmpSocketPath } from "../helpers/streams.ts";
import { server as serverCert } from "../helpers/tls-fixtures.ts";
import { Workerd } from "../workerd/harness.ts";

const TCP_BYTES = 16 * 1024 * 1024;
const HALF_CLOSE_BYTES = 256 * 1024;
const UNIX_BYTES = 1024 * 1024;

interface Seen {
  bytes: number;
  sha256: string;
}

/**
 * Reads `socket` to EOF, hashing, and echoing each chunk back when `echo` is set. One buffer is
 * reused for every read, on purpose: once `write()` has resolved the runtime must be done with it.
 */
async function drain(socket: Socket, echo: boolean): Promise<Seen> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(64 * 1024);
  let bytes = 0;
  for (let n = await socket.read(buf); n !== null; n = await socket.read(buf)) {
    hash.update(buf.subarray(0, n));
    bytes += n;
    if (echo) await socket.write(buf.subarray(0, n));
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** Serves each connection with `handle`, recording what it saw (before the server's FIN, so a
 * client that has exited has always been recorded). */
function serve(listener: Listener, handle: (s: Socket) => Promise<Seen>, seen: Seen[]): void {
  void (async () => {
    for await (const socket of listener) {
      void handle(socket)
        .then((s) => seen.push(s))
        .catch((err) => seen.push({ bytes: -1, sha256: String(err) }))
        .finally(() => socket.close().catch(() => {}));
    }
  })();
}

/** Runs the interop client under `rt` (bounded) and parses its one line of JSON. */
async function runClient(rt: RuntimeName, args: string[]): Promise<Record<string, unknown>> {
  const child = startScript(rt, "test/interop/client.ts", args);
  const exit = await child.wait(60_000);
  expect(exit.code, child.describe()).toBe(0);
  const result = JSON.parse(child.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
  expect(result.runtime, "the client runs the adapter of its own runtime").toBe(rt);
  return result;
}

/** Marks a test that checked ERR_UNSUPPORTED, so the matrix counts it apart (bin/lib/results.mjs). */
const markUnsupported = (task: { meta: object }): void => {
  (task.meta as { unsupported?: boolean }).unsupported = true;
};

describe(`interop: server ${currentRuntime}`, () => {
  let tcp: Listener;
  let halfClose: Listener;
  let unix: Listener | null = null;
  let udp: DatagramSocket | null = null;
  const unixPath = tmpSocketPath("interop");
  const tcpSeen: Seen[] = [];
  const halfSeen: Seen[] = [];
  const unixSeen: Seen[] = [];

  beforeAll(async () => {
    expect(runtime, "the server is this runtime's adapter").toBe(currentRuntime);
    tcp = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    serve(tcp, (s) => drain(s, true), tcpSeen);
    halfClose = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    serve(
      halfClose,
      async (s) => {
        const seen = await drain(s, false); // returns at the client's FIN
        await s.write(`after your FIN: ${seen.bytes} bytes, sha256 ${seen.sha256}`);
        return seen;
      },
      halfSeen,
    );
    if (capabilities.unixStream) {
      unix = await listen({ path: unixPath, allowHalfOpen: true });
      serve(unix, (s) => drain(s, true), unixSeen);
    }
    if (capabilities.udp) {
      const socket = await bind({ hostname: "127.0.0.1" });
      udp = socket;
      void (async () => {
        for await (const d of socket) await socket.send(d.data, d.remoteAddress).catch(() => {});
      })();
    }
  });

  afterEach(killChildren);

  afterAll(async () => {
    await Promise.all([tcp?.close(), halfClose?.close(), unix?.close(), udp?.close()]);
  });

  const port = (l: Listener): string => String((l.addr as { port: number }).port);

  for (const client of RUNTIMES) {
    it(`client ${client}: tcp 16 MiB echo`, { timeout: 90_000 }, async () => {
      const before = tcpSeen.length;
      const r = await runClient(client, ["tcp", port(tcp), String(TCP_BYTES)]);
      expect(tcpSeen.length).toBe(before + 1);
      const server = tcpSeen[before]!;
      expect(server.bytes).toBe(TCP_BYTES);
      expect(server.sha256, "what the server received is what the client sent").toBe(r.sent);
      expect(r.receivedBytes).toBe(TCP_BYTES);
      expect(r.received, "what the client got back is what it sent").toBe(r.sent);
    });

    it(`client ${client}: half-close, the answer comes after the FIN`, async () => {
      const before = halfSeen.length;
      const r = await runClient(client, ["halfclose", port(halfClose), String(HALF_CLOSE_BYTES)]);
      const server = halfSeen[before]!;
      expect(server.sha256).toBe(r.sent);
      expect(r.answer).toBe(`after your FIN: ${HALF_CLOSE_BYTES} bytes, sha256 ${r.sent}`);
    });

    it(`client ${client}: unix socket echo`, async ({ task }) => {
      if (!capabilities.unixStream) {
        await expectCode(listen({ path: tmpSocketPath("no") }), "ERR_UNSUPPORTED");
        markUnsupported(task);
        return;
      }
      const before = unixSeen.length;
      const r = await runClient(client, ["unix", unixPath, String(UNIX_BYTES)]);
      expect(unixSeen[before], "what the server received is what the client sent").toEqual({
        bytes: UNIX_BYTES,
        sha256: r.sent,
      });
      expect(r.receivedBytes).toBe(UNIX_BYTES);
      expect(r.received, "what the client got back is what it sent").toBe(r.sent);
    });

    it(`client ${client}: udp datagram echo`, async ({ task }) => {
      if (udp === null) {
        // This runtime cannot serve UDP: it must say so. The client's side is checked as well.
        await expectCode(bind({ hostname: "127.0.0.1" }), "ERR_UNSUPPORTED");
        const probe = await runClient(client, ["udp-probe"]);
        expect(probe.code).toBe(probe.udp ? null : "ERR_UNSUPPORTED");
        markUnsupported(task);
        return;
      }
      const r = await runClient(client, ["udp", String(udp.localAddress.port)]);
      if (r.udp === false) {
        expect(r.code).toBe("ERR_UNSUPPORTED");
        markUnsupported(task);
        return;
      }
      expect(r.echoed).toEqual([0, 1, 100, 1400, 9000, 65_507]);
    });
  }

  describe("client workerd", () => {
    let wd: Workerd;
    let secure: Listener;
    let starttls: Listener;
    const secureSeen: Seen[] = [];
    const starttlsSeen: Seen[] = [];

    beforeAll(async () => {
      wd = await Workerd.start();
      secure = await listen({ hostname: "127.0.0.1", allowHalfOpen: true, tls: serverCert });
      serve(secure, (s) => drain(s, true), secureSeen);
      starttls = await listen({ hostname: "127.0.0.1", allowHalfOpen: true, secureTransport: "starttls" });
      serve(
        starttls,
        async (s) => {
          await s.write("READY\n");
          await new LineReader(s).read(); // "STARTTLS": the client sends nothing more until it hears GO
          await s.write("GO\n");
          await using upgraded = s.startTls({ server: serverCert });
          return await drain(upgraded, true); // awaited here, before `upgraded` is disposed
        },
        starttlsSeen,
      );
    });

    afterAll(async () => {
      await Promise.all([wd?.stop(), secure?.close(), starttls?.close()]);
    });

    type Echoed = { sent: string; received: string; receivedBytes: number };

    it("client workerd: tcp 16 MiB echo", { timeout: 90_000 }, async () => {
      const before = tcpSeen.length;
      const r = await wd.value<Echoed>("echo", { port: Number(port(tcp)), bytes: TCP_BYTES });
      expect(tcpSeen[before], "what the server received is what the client sent").toEqual({
        bytes: TCP_BYTES,
        sha256: r.sent,
      });
      expect(r.receivedBytes).toBe(TCP_BYTES);
      expect(r.received, "what the client got back is what it sent").toBe(r.sent);
    });

    it("client workerd: half-close, the answer comes after the FIN", async () => {
      const before = halfSeen.length;
      const r = await wd.value<{ sent: string; answer: string }>("halfClose", {
        port: Number(port(halfClose)),
        bytes: HALF_CLOSE_BYTES,
      });
      expect(halfSeen[before]?.sha256).toBe(r.sent);
      expect(r.answer).toBe(`after your FIN: ${HALF_CLOSE_BYTES} bytes, sha256 ${r.sent}`);
    });

    it("client workerd: TLS echo, the certificate verified", async () => {
      const before = secureSeen.length;
      const r = await wd.value<Echoed & { info: { authorized?: boolean } }>("echo", {
        port: Number(port(secure)),
        host: "localhost",
        tls: true,
        bytes: UNIX_BYTES,
      });
      expect(r.info.authorized).toBe(true);
      expect(secureSeen[before]).toEqual({ bytes: UNIX_BYTES, sha256: r.sent });
      expect(r.received).toBe(r.sent);
    });

    it("client workerd: STARTTLS, then an echo over TLS", async () => {
      const before = starttlsSeen.length;
      const r = await wd.value<Echoed & { greeting: string; go: string }>("starttls", {
        port: Number(port(starttls)),
        bytes: UNIX_BYTES,
      });
      expect([r.greeting, r.go]).toEqual(["READY", "GO"]);
      expect(starttlsSeen[before]).toEqual({ bytes: UNIX_BYTES, sha256: r.sent });
      expect(r.received).toBe(r.sent);
    });
  });
});
