/**
 * A Cloudflare Worker that talks to a TCP or TLS server with unisock: each request names a server
 * (`?to=host:port`, and `&tls=on` for TLS), sends
 * `msg` as a line and answers with the line the server sent back. Under a local workerd:
 *
 *   node examples/workerd-serve.ts 8787
 *   curl 'http://127.0.0.1:8787/?to=127.0.0.1:7007&msg=hello'
 *
 * `import "unisock"` is unisock/workerd here (the `workerd` export condition). A Worker's sockets
 * live only as long as the request that opened them: open, use and close them inside `fetch`.
 */
import { connect, LineReader, SocketError } from "unisock";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const to = url.searchParams.get("to");
    if (to === null) return new Response("usage: /?to=host:port[&tls=on][&msg=text]\n", { status: 400 });
    const message = url.searchParams.get("msg") ?? "hello from a Worker";
    try {
      // With TLS, the certificate is checked against workerd's trust store and the host name.
      await using socket = connect(to, { secureTransport: url.searchParams.get("tls") === "on" ? "on" : "off" });
      const { remoteAddress } = await socket.opened;
      await socket.write(`${message}\n`);
      const line = await new LineReader(socket).read();
      const where =
        remoteAddress.transport === "unix" ? remoteAddress.path : `${remoteAddress.hostname}:${remoteAddress.port}`;
      return new Response(`${where} answered: ${line === null ? "(nothing)" : new TextDecoder().decode(line)}\n`);
    } catch (err) {
      // Every failure is a SocketError with the contract's code, on Workers as everywhere.
      return new Response(`${err instanceof SocketError ? err.message : `ERROR: ${String(err)}`}\n`, { status: 502 });
    }
  },
};
