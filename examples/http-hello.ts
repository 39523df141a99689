/**
 * A minimal HTTP/1.1 server on raw TCP: "Hello, World!" for GET and HEAD, with persistent
 * (keep-alive) connections.
 *
 *   node --conditions=unisock-source examples/http-hello.ts [port]
 *   deno run -A examples/http-hello.ts [port]
 *   bun --conditions=unisock-source examples/http-hello.ts [port]
 *
 * Port from argv, then $PORT, then 8080; address from $HOST (default 127.0.0.1).
 * Try `curl -v http://127.0.0.1:8080/ http://127.0.0.1:8080/` (one connection, two requests).
 */
import process from "node:process";
import { DelimitedReader, listen, type Socket } from "unisock";
import { run, serverPort } from "./_cli.ts";

const hostname = process.env.HOST ?? "127.0.0.1";
const IDLE_MS = 5000; // how long a kept-alive connection may wait for its next request

await run(async () => {
  // allowHalfOpen: a client that closes its side after the request (`nc -N`) still gets the answer.
  const listener = await listen({ hostname, port: serverPort(process.argv[2], 8080), allowHalfOpen: true });
  if (listener.addr.transport === "unix") throw new Error("unreachable: listening on TCP");
  console.log(`http server listening on ${listener.addr.hostname}:${listener.addr.port}`);

  for await (const socket of listener) void serve(socket);
});

async function serve(socket: Socket): Promise<void> {
  // A request head ends at the first empty line: one "message" of a CRLF CRLF delimited stream.
  // The reader buffers what comes after it, so pipelined requests are read one by one.
  const heads = new DelimitedReader(socket, { delimiter: "\r\n\r\n", maxMessageBytes: 16 * 1024 });
  try {
    for (;;) {
      // null: the client closed between requests. The signal drops connections idle too long.
      const head = await heads.read({ signal: AbortSignal.timeout(IDLE_MS) });
      if (head === null) break;
      if (!(await respond(socket, new TextDecoder().decode(head)))) break;
    }
  } catch (err) {
    // A head over 16 KiB: say so, as HTTP servers do. Idle timeout (TimeoutError), a reset...: just close.
    if ((err as { code?: string }).code === "EMSGSIZE") await refuseHead(socket).catch(() => {});
  } finally {
    await socket.close(); // flushes the last response before closing
  }
}

/**
 * 431 for a request head over the limit. The client may still be sending it: closing with unread
 * bytes would make the kernel send a reset, which can destroy the response before the client
 * reads it. So: answer, FIN, then read and drop what is still coming (bounded) before closing.
 */
async function refuseHead(socket: Socket): Promise<void> {
  await send(socket, "431 Request Header Fields Too Large", "GET", false, "Request Header Fields Too Large\n");
  await socket.closeWrite();
  const sink = new Uint8Array(64 * 1024);
  const until = AbortSignal.timeout(2000);
  for (let drained = 0; drained < 16 * 1024 * 1024; ) {
    const n = await socket.read(sink, { signal: until });
    if (n === null) return;
    drained += n;
  }
}

/** Answers one request; resolves with whether the connection stays open for the next one. */
async function respond(socket: Socket, head: string): Promise<boolean> {
  const [requestLine = "", ...fields] = head.split("\r\n");
  const [method, target, version] = requestLine.split(" ");
  const headers = new Map<string, string>();
  for (const field of fields) {
    const colon = field.indexOf(":");
    if (colon > 0) headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
  }
  if (!target || (version !== "HTTP/1.1" && version !== "HTTP/1.0")) {
    await send(socket, "400 Bad Request", "GET", false, "Bad Request\n");
    return false;
  }

  // HTTP/1.1 keeps the connection unless told "close"; HTTP/1.0 closes unless told "keep-alive".
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  let keepAlive = version === "HTTP/1.1" ? connection !== "close" : connection === "keep-alive";
  // This server never reads request bodies. Left unread, a body would be taken for the next
  // request, so a request with one is answered and the connection closed.
  if (headers.has("transfer-encoding") || Number(headers.get("content-length") ?? 0) > 0) keepAlive = false;

  if (method === "GET" || method === "HEAD") await send(socket, "200 OK", method, keepAlive, "Hello, World!\n");
  else
    await send(
      socket,
      "405 Method Not Allowed",
      method ?? "",
      keepAlive,
      "Method Not Allowed\n",
      "Allow: GET, HEAD\r\n",
    );
  return keepAlive;
}

/** Writes one response. Content-Length must be exact: it is how the client finds where the next one starts. */
function send(
  socket: Socket,
  status: string,
  method: string,
  keepAlive: boolean,
  text: string,
  extra = "",
): Promise<void> {
  const body = new TextEncoder().encode(text);
  const head =
    `HTTP/1.1 ${status}\r\n` +
    `Date: ${new Date().toUTCString()}\r\n` +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${body.byteLength}\r\n` + // HEAD: the length GET would have sent
    (keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${IDLE_MS / 1000}\r\n` : "Connection: close\r\n") +
    extra +
    "\r\n";
  const headBytes = new TextEncoder().encode(head);
  if (method === "HEAD") return socket.write(headBytes);
  // One write for head and body: one TCP segment for a small response.
  const out = new Uint8Array(headBytes.byteLength + body.byteLength);
  out.set(headBytes);
  out.set(body, headBytes.byteLength);
  return socket.write(out);
}
