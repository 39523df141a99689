import { describe, expect, it } from "vitest";
import { capabilities, connect, listen } from "unisock";
import { dec, enc, expectCode, portOf, randomBytes, readN, readText, sha256, within } from "../helpers/streams.ts";

async function pair(listenOptions = {}, connectOptions = {}) {
  const l = await listen({ hostname: "127.0.0.1", ...listenOptions });
  const accepted = l.accept();
  const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, connectOptions);
  await c.opened;
  const s = await accepted;
  return {
    l,
    c,
    s,
    async [Symbol.asyncDispose]() {
      await Promise.all([c.close(), s.close(), l.close()]);
    },
  };
}

describe("stream: Web Streams", () => {
  it("the readable is a byte stream: a BYOB reader fills the caller's buffer", async () => {
    await using p = await pair();
    await p.s.write("0123456789");
    await p.s.close();
    const reader = p.c.readable.getReader({ mode: "byob" });
    const got: string[] = [];
    let buf = new ArrayBuffer(4);
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buf));
      if (done) break;
      expect(value.byteLength).toBeLessThanOrEqual(4);
      got.push(dec.decode(value));
      buf = value.buffer;
    }
    expect(got.join("")).toBe("0123456789");
  });

  it("writable.close() is a half-close: the peer sees EOF and can still answer", async () => {
    await using p = await pair({ allowHalfOpen: true }, { allowHalfOpen: true });
    const writer = p.c.writable.getWriter();
    await writer.write(enc.encode("question"));
    await writer.close();
    expect(await readText(p.s)).toBe("question");
    await p.s.write("answer");
    await p.s.closeWrite();
    const chunks: string[] = [];
    for await (const chunk of p.c.readable) chunks.push(dec.decode(chunk));
    expect(chunks.join("")).toBe("answer");
  });

  it("writable.abort() on either end resets the connection (capabilities.reset), else closes it and says so", async () => {
    for (const aborter of ["client", "server"] as const) {
      await using p = await pair();
      const [quitter, other] = aborter === "client" ? [p.c, p.s] : [p.s, p.c];
      const writer = quitter.writable.getWriter();
      await writer.write(enc.encode("partial"));
      await readN(other, 7); // read at the other end, so only the reset itself is left to arrive
      if (capabilities.reset) {
        await writer.abort(new Error("give up"));
        await expectCode(within(other.read(new Uint8Array(16)), 3000), "ECONNRESET");
      } else {
        await expectCode(writer.abort(new Error("give up")), "ERR_UNSUPPORTED");
        expect(await within(other.read(new Uint8Array(16)), 3000), aborter).toBeNull(); // closed: EOF, no more data
      }
      await expect(quitter.closed, aborter).resolves.toBeUndefined();
      await expectCode(quitter.write("x"), "EINVAL"); // the write side belongs to the (aborted) stream
    }
  });

  it("pipeTo / pipeThrough move 4 MiB intact in both directions", async () => {
    await using p = await pair({ allowHalfOpen: true }, { allowHalfOpen: true });
    const data = randomBytes(4 * 1024 * 1024);
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let o = 0; o < data.byteLength; o += 100_000) controller.enqueue(data.slice(o, o + 100_000));
        controller.close();
      },
    });
    // Server: echo through the streams API.
    const echo = p.s.readable.pipeTo(p.s.writable);
    const back = (async () => {
      const parts: Uint8Array[] = [];
      for await (const chunk of p.c.readable) parts.push(chunk);
      const out = new Uint8Array(parts.reduce((a, b) => a + b.byteLength, 0));
      let o = 0;
      for (const part of parts) {
        out.set(part, o);
        o += part.byteLength;
      }
      return out;
    })();
    await source.pipeTo(p.c.writable);
    await echo;
    const result = await back;
    expect(result.byteLength).toBe(data.byteLength);
    expect(await sha256(result)).toBe(await sha256(data));
  });

  it("cancelling the readable stops reading but keeps the write side open", async () => {
    await using p = await pair({ allowHalfOpen: true }, { allowHalfOpen: true });
    await p.c.readable.cancel();
    await p.c.write("after cancel");
    await p.c.closeWrite();
    expect(await readText(p.s)).toBe("after cancel");
  });

  it("chunks from a default reader are the caller's own: later reads do not overwrite them", async () => {
    await using p = await pair();
    const reader = p.c.readable.getReader();
    await p.s.write("first");
    const a = await reader.read();
    await p.s.write("second");
    const b = await reader.read();
    expect(dec.decode(a.value)).toBe("first");
    expect(dec.decode(b.value)).toBe("second");
  });
});
