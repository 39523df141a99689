/**
 * The client side of the interop tests, run as a child under node, deno or bun against a unisock
 * server in the test process (which may be another runtime). It uses only `unisock` and prints one
 * JSON line with what it saw; the test checks it against what the server saw.
 *
 *   <runtime> test/interop/client.ts tcp <port> <bytes>     echo of random bytes, both SHA-256s
 *   <runtime> test/interop/client.ts halfclose <port> <bytes> send, closeWrite, read the answer
 *   <runtime> test/interop/client.ts unix <path> <bytes>    echo over a Unix socket
 *   <runtime> test/interop/client.ts udp <port>             datagram echo (or the ERR_UNSUPPORTED it got)
 *   <runtime> test/interop/client.ts udp-probe              can this runtime bind a UDP socket?
 */
import { createHash } from "node:crypto";
import process from "node:process";
import { bind, capabilities, connect, runtime, type Socket } from "unisock";

const [mode, target = "", size = "0"] = process.argv.slice(2);
const CHUNK = 64 * 1024;

function randomChunk(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/** Writes `total` random bytes (hashing them) then closeWrite, while reading (hashing) until EOF. */
async function exchange(
  socket: Socket,
  total: number,
): Promise<{ sent: string; received: string; receivedBytes: number }> {
  const sent = createHash("sha256");
  const writing = (async () => {
    for (let o = 0; o < total; o += CHUNK) {
      const chunk = randomChunk(Math.min(CHUNK, total - o));
      sent.update(chunk);
      await socket.write(chunk);
    }
    await socket.closeWrite();
  })();
  const received = createHash("sha256");
  let receivedBytes = 0;
  const buf = new Uint8Array(CHUNK);
  for (let n = await socket.read(buf); n !== null; n = await socket.read(buf)) {
    received.update(buf.subarray(0, n));
    receivedBytes += n;
  }
  await writing;
  return { sent: sent.digest("hex"), received: received.digest("hex"), receivedBytes };
}

async function main(): Promise<Record<string, unknown>> {
  switch (mode) {
    case "tcp":
    case "unix": {
      const address = mode === "tcp" ? { hostname: "127.0.0.1", port: Number(target) } : { path: target };
      await using socket = connect(address, { allowHalfOpen: true });
      await socket.opened;
      return await exchange(socket, Number(size)); // await: `await using` closes the socket on return
    }
    case "halfclose": {
      await using socket = connect({ hostname: "127.0.0.1", port: Number(target) }, { allowHalfOpen: true });
      await socket.opened;
      const data = randomChunk(Number(size));
      await socket.write(data);
      await socket.closeWrite(); // the server answers only after this FIN
      let answer = "";
      const decoder = new TextDecoder();
      for await (const chunk of socket.readable) answer += decoder.decode(chunk, { stream: true });
      return { sent: createHash("sha256").update(data).digest("hex"), answer };
    }
    case "udp-probe": {
      // Only what this runtime can do: bind and close, or the error that says it cannot.
      try {
        const socket = await bind({ hostname: "127.0.0.1" });
        await socket.close();
        return { udp: capabilities.udp, code: null };
      } catch (err) {
        return { udp: capabilities.udp, code: (err as { code?: string }).code ?? String(err) };
      }
    }
    case "udp": {
      if (!capabilities.udp) {
        try {
          await bind({ hostname: "127.0.0.1" });
          return { udp: false, code: null };
        } catch (err) {
          return { udp: false, code: (err as { code?: string }).code ?? String(err) };
        }
      }
      await using socket = await bind({
        hostname: "127.0.0.1",
        connect: { hostname: "127.0.0.1", port: Number(target) },
      });
      const sizes = [0, 1, 100, 1400, 9000, 65_507];
      const echoed: number[] = [];
      for (const n of sizes) {
        const data = randomChunk(n);
        const want = createHash("sha256").update(data).digest("hex");
        // UDP may drop: send again after a timeout, ignoring stale answers to earlier tries.
        for (let attempt = 1; ; attempt++) {
          await socket.send(data);
          try {
            const signal = AbortSignal.timeout(1000);
            let got = "";
            while (got !== want)
              got = createHash("sha256")
                .update((await socket.receive({ signal })).data)
                .digest("hex");
            break;
          } catch (err) {
            if ((err as Error).name !== "TimeoutError" || attempt === 5) throw err;
          }
        }
        echoed.push(n);
      }
      return { udp: true, echoed };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

const timer = setTimeout(() => {
  console.error("interop client: no result within 60 s");
  process.exit(3);
}, 60_000);
try {
  console.log(JSON.stringify({ runtime, ...(await main()) }));
} finally {
  clearTimeout(timer);
}
