/**
 * examples/framed-server.ts and framed-client.ts under the runtime running this suite, plus a
 * client in this process that writes frames byte by byte and breaks the protocol on purpose.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, encodeFrame, LengthPrefixedReader, writeFrame } from "unisock";
import { currentRuntime as rt, killChildren, runScript, startServer } from "./_children.ts";

describe("examples/framed-server.ts", () => {
  let port: number;

  beforeEach(async () => {
    ({ port } = await startServer(rt, "examples/framed-server.ts"));
  });
  afterEach(killChildren);

  it("framed-client.ts gets every answer, in order", async () => {
    const client = await runScript(rt, "examples/framed-client.ts", [`127.0.0.1:${port}`]);
    expect((await client.exited).code, client.describe()).toBe(0);
    expect(client.stdout.split("\n")).toEqual([
      "#1 add -> 42",
      '#2 upper -> "MULTI\\nLINE TEXT KEEPS ITS NEWLINE"',
      `#3 echo -> ${JSON.stringify(["x".repeat(100_000)]).slice(0, 57)}... (100004 chars)`,
      '#4 nope -> "no method \\"nope\\""',
      "",
    ]);
  });

  it("reassembles a frame sent one byte at a time, and answers a frame that is not JSON", async () => {
    await using socket = connect({ hostname: "127.0.0.1", port });
    const frames = new LengthPrefixedReader(socket);
    const bytes = encodeFrame(JSON.stringify({ id: 7, method: "add", params: [20, 22] }));
    for (const b of bytes) await socket.write(new Uint8Array([b]));
    await writeFrame(socket, "{not json");
    const signal = AbortSignal.timeout(10_000);
    expect(JSON.parse(new TextDecoder().decode((await frames.read({ signal }))!))).toEqual({ id: 7, result: 42 });
    expect(JSON.parse(new TextDecoder().decode((await frames.read({ signal }))!))).toEqual({
      id: null,
      error: "not JSON",
    });
  });

  it("closes a connection whose frame header announces more than 1 MiB", async () => {
    await using socket = connect({ hostname: "127.0.0.1", port });
    await socket.write(new Uint8Array([0x00, 0x20, 0x00, 0x00])); // 2 MiB, then nothing
    const n = await socket.read(new Uint8Array(16), { signal: AbortSignal.timeout(10_000) });
    expect(n, "EOF from the server").toBe(null);
  });
});
