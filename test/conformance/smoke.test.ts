import { expect, it } from "vitest";
import { connect, listen } from "unisock";

it("echo", async () => {
  const l = await listen({ hostname: "127.0.0.1" });
  const port = (l.addr as { port: number }).port;
  void (async () => {
    for await (const s of l) {
      const buf = new Uint8Array(1024);
      let n: number | null;
      while ((n = await s.read(buf)) !== null) await s.write(buf.subarray(0, n));
      await s.close();
    }
  })();
  const c = connect({ hostname: "127.0.0.1", port });
  await c.opened;
  await c.write("hello");
  await c.closeWrite();
  const buf = new Uint8Array(100);
  const n = await c.read(buf);
  expect(new TextDecoder().decode(buf.subarray(0, n!))).toBe("hello");
  expect(await c.read(buf)).toBe(null);
  await c.close();
  await l.close();
});
