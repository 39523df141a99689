/**
 * examples/http-hello.ts under the runtime running this suite, against curl and nc (clients
 * nobody here wrote) and a raw unisock client for what curl hides (pipelining, the server's close).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect } from "unisock";
import { currentRuntime as rt, killChildren, runTool, startServer, tool } from "./_children.ts";

interface Response {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Sends raw bytes, reads until the server closes (bounded), and splits what came into responses. */
async function rawExchange(
  port: number,
  request: string,
  heads: string[],
): Promise<{ responses: Response[]; closed: boolean }> {
  await using socket = connect({ hostname: "127.0.0.1", port });
  await socket.write(request);
  const signal = AbortSignal.timeout(10_000);
  let text = "";
  const buf = new Uint8Array(65536);
  let closed = false;
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const n = await socket.read(buf, { signal });
      if (n === null) {
        closed = true;
        break;
      }
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } catch (err) {
    if ((err as Error).name !== "TimeoutError") throw err;
  }
  // Split by Content-Length; the answer to a HEAD request has no body whatever its length says.
  const responses: Response[] = [];
  for (const method of heads) {
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) break;
    const [statusLine = "", ...fields] = text.slice(0, end).split("\r\n");
    const headers = new Map(
      fields.map((f) => [f.slice(0, f.indexOf(":")).toLowerCase(), f.slice(f.indexOf(":") + 1).trim()]),
    );
    const length = method === "HEAD" ? 0 : Number(headers.get("content-length"));
    responses.push({ status: Number(statusLine.split(" ")[1]), headers, body: text.slice(end + 4, end + 4 + length) });
    text = text.slice(end + 4 + length);
  }
  expect(text, "bytes after the last expected response").toBe("");
  return { responses, closed };
}

describe("examples/http-hello.ts", () => {
  let url: string;
  let port: number;

  beforeEach(async () => {
    ({ port } = await startServer(rt, "examples/http-hello.ts"));
    url = `http://127.0.0.1:${port}/`;
  });
  afterEach(killChildren);

  it("curl gets Hello, World! with the exact Content-Length", async (ctx) => {
    const curlPath = tool(ctx, "curl");
    const curl = await runTool(curlPath, ["-sS", "--max-time", "10", "-i", url]);
    expect((await curl.exited).code, curl.describe()).toBe(0);
    const [head, body] = curl.stdout.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ncontent-length: 14(\r\n|$)/i);
    expect(body).toBe("Hello, World!\n");
  });

  it("curl reuses one kept-alive connection for two requests", async (ctx) => {
    const curlPath = tool(ctx, "curl");
    const curl = await runTool(curlPath, [
      "-sS",
      "--max-time",
      "10",
      "-w",
      "[%{http_code} %{num_connects}]",
      url,
      `${url}again`,
    ]);
    expect((await curl.exited).code, curl.describe()).toBe(0);
    // num_connects: new connections opened for that transfer; 0 for the second means it was reused.
    expect(curl.stdout).toBe("Hello, World!\n[200 1]Hello, World!\n[200 0]");
  });

  it("curl with Connection: close and curl --http1.0 get a closed connection each time", async (ctx) => {
    const curlPath = tool(ctx, "curl");
    for (const flags of [["-H", "Connection: close"], ["--http1.0"]]) {
      const curl = await runTool(curlPath, [
        "-sS",
        "--max-time",
        "10",
        ...flags,
        "-w",
        "[%{http_code} %{num_connects}]",
        url,
        url,
      ]);
      expect((await curl.exited).code, curl.describe()).toBe(0);
      expect(curl.stdout, flags.join(" ")).toBe("Hello, World!\n[200 1]Hello, World!\n[200 1]");
    }
  });

  it("curl -I (HEAD) gets the headers GET would get and no body", async (ctx) => {
    const curlPath = tool(ctx, "curl");
    const curl = await runTool(curlPath, ["-sS", "--max-time", "10", "-I", "-w", "[%{size_download}]", url]);
    expect((await curl.exited).code, curl.describe()).toBe(0);
    expect(curl.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(curl.stdout).toMatch(/\r\ncontent-length: 14\r\n/i);
    expect(curl.stdout.endsWith("\r\n\r\n[0]")).toBe(true);
  });

  it("curl POST gets 405 with Allow, and the unread body closes the connection", async (ctx) => {
    const curlPath = tool(ctx, "curl");
    const curl = await runTool(curlPath, ["-sS", "--max-time", "10", "-i", "-d", "a=1", url]);
    expect((await curl.exited).code, curl.describe()).toBe(0);
    expect(curl.stdout).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(curl.stdout).toMatch(/\r\nallow: GET, HEAD\r\n/i);
    expect(curl.stdout).toMatch(/\r\nconnection: close\r\n/i);
  });

  it("answers pipelined requests in order and closes after Connection: close", async () => {
    const request =
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n" +
      "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n" +
      "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const { responses, closed } = await rawExchange(port, request, ["GET", "HEAD", "GET"]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(responses.map((r) => r.body)).toEqual(["Hello, World!\n", "", "Hello, World!\n"]);
    expect(responses.map((r) => r.headers.get("connection"))).toEqual(["keep-alive", "keep-alive", "close"]);
    expect(closed, "the server closes after the response to Connection: close").toBe(true);
  });

  it("closes an HTTP/1.0 connection after one response, keeps it with keep-alive", async () => {
    const plain = await rawExchange(port, "GET / HTTP/1.0\r\n\r\n", ["GET"]);
    expect(plain.closed).toBe(true);
    expect(plain.responses[0]!.headers.get("connection")).toBe("close");

    const kept = await rawExchange(port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n", [
      "GET",
      "GET",
    ]);
    expect(kept.responses.map((r) => r.headers.get("connection"))).toEqual(["keep-alive", "close"]);
    expect(kept.closed).toBe(true);
  });

  it("answers a malformed request with 400 and closes", async () => {
    const { responses, closed } = await rawExchange(port, "NONSENSE\r\n\r\n", ["GET"]);
    expect(responses[0]!.status).toBe(400);
    expect(closed).toBe(true);
  });

  it("answers a request head over 16 KiB with 431 and closes, even while the client is still sending", async () => {
    // 64 KiB of header, no blank line: the server gives up at 16 KiB with the rest still arriving.
    const head = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}`;
    const { responses, closed } = await rawExchange(port, head, ["GET"]);
    expect(responses[0]!.status).toBe(431);
    expect(responses[0]!.headers.get("connection")).toBe("close");
    expect(closed).toBe(true);
  });

  it("nc -N: a client that half-closes after its request still gets the answer", async (ctx) => {
    const ncPath = tool(ctx, "nc");
    const nc = await runTool(
      ncPath,
      ["-N", "-w", "10", "127.0.0.1", String(port)],
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    expect((await nc.exited).code, nc.describe()).toBe(0);
    expect(nc.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nHello, World!\n$/);
  });
});
