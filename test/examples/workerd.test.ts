/**
 * examples/workerd-client.ts, a Worker that imports "unisock", under a local workerd started by
 * examples/workerd-serve.ts, against unisock servers of the runtime running this suite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Listener, listen } from "unisock";
import { type ServedWorker, serveWorker } from "../../examples/workerd-serve.ts";
import { ca, server as serverCert } from "../helpers/tls-fixtures.ts";
import { path } from "./_children.ts";

let worker: ServedWorker;
const servers: Listener[] = [];

/** A unisock server that answers each line with the same line. */
async function lineEcho(options: { tls?: { cert: string; key: string } } = {}): Promise<number> {
  const l = await listen({ hostname: "127.0.0.1", ...options });
  servers.push(l);
  void (async () => {
    for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
  })();
  return (l.addr as { port: number }).port;
}

const ask = async (query: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(`http://127.0.0.1:${worker.port}/?${query}`, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, text: await res.text() };
};

beforeAll(async () => {
  worker = await serveWorker({ worker: path("examples/workerd-client.ts"), ca });
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all(servers.map((l) => l.close()));
});

describe("examples/workerd-client.ts under workerd", () => {
  it("talks TCP to a unisock server and answers with its line", async () => {
    const port = await lineEcho();
    expect(await ask(`to=127.0.0.1:${port}&msg=hello`)).toEqual({
      status: 200,
      text: `127.0.0.1:${port} answered: hello\n`,
    });
  });

  it("talks TLS, the certificate checked against workerd's trust store and the host name", async () => {
    const port = await lineEcho({ tls: serverCert });
    expect(await ask(`to=localhost:${port}&tls=on&msg=secure`)).toEqual({
      status: 200,
      text: `localhost:${port} answered: secure\n`,
    });
  });

  it("a refused connection is answered with its SocketError code", async () => {
    const port = await lineEcho();
    await servers.pop()!.close();
    const r = await ask(`to=127.0.0.1:${port}`);
    expect(r.status).toBe(502);
    expect(r.text).toMatch(/^ECONNREFUSED: /);
  });
});
