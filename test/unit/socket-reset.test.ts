/*
 * The core socket's reset against a transport that never settles what it was given (a peer whose
 * window stays shut): writable.abort() must still end every wait — pending writes, close(),
 * writable.close(), closed — whatever the runtime does with the connection it drops.
 */
import { describe, expect, it } from "vitest";
import { SocketError } from "../../src/core/errors.ts";
import type { AdapterContext } from "../../src/core/context.ts";
import { StreamSocket } from "../../src/core/socket.ts";
import type { Opened, Transport } from "../../src/core/transport.ts";
import type { Capabilities } from "../../src/core/types.ts";

const never = (): Promise<void> => new Promise<void>(() => {});

/** A transport whose writes, closeWrite and close never complete; it counts resets. */
function stuckTransport(): Transport & { resets: number; written: number } {
  const t = {
    resets: 0,
    written: 0,
    write: (data: Uint8Array) => {
      t.written += data.byteLength;
      return never();
    },
    closeWrite: never,
    close: never,
    reset: () => void t.resets++,
    pause() {},
    resume() {},
    setNoDelay() {},
    setKeepAlive() {},
    ref() {},
    unref() {},
  };
  return t;
}

function socketOn(transport: Transport, reset: boolean): StreamSocket {
  const ctx: AdapterContext = { runtime: "node", errors: {}, capabilities: { reset } as Capabilities };
  const info = {
    localAddress: { transport: "unix", path: "" },
    remoteAddress: { transport: "unix", path: "" },
    alpn: null,
  } as const;
  return new StreamSocket(ctx, () => Promise.resolve<Opened>({ transport, info }));
}

const settles = async (p: Promise<unknown>): Promise<string> =>
  Promise.race([
    p.then(
      () => "resolved",
      (e: unknown) => (e instanceof SocketError ? e.code : String(e)),
    ),
    new Promise<string>((r) => setTimeout(() => r("pending"), 200)),
  ]);

describe("core: writable.abort() wins over a pending close", () => {
  for (const reset of [true, false]) {
    it(`socket.close() waiting on a stuck write settles on abort (capabilities.reset ${reset})`, async () => {
      const t = stuckTransport();
      const s = socketOn(t, reset);
      await s.opened;
      const write = s.write("stuck");
      const closing = s.close();
      expect(await settles(closing)).toBe("pending");
      const aborted = s.writable.abort();
      expect(await settles(aborted)).toBe(reset ? "resolved" : "ERR_UNSUPPORTED");
      expect(t.resets).toBe(1);
      expect(await settles(closing)).toBe("resolved");
      expect(await settles(s.closed)).toBe("resolved");
      expect(await settles(write)).toBe("ECLOSED");
      await expect(s.write("after")).rejects.toMatchObject({ code: "ECLOSED" });
    });

    it(`writable.close() waiting on a stuck write settles on abort (capabilities.reset ${reset})`, async () => {
      const t = stuckTransport();
      const s = socketOn(t, reset);
      await s.opened;
      const writer = s.writable.getWriter();
      const write = writer.write(new Uint8Array(8));
      const closing = writer.close();
      expect(await settles(closing)).toBe("pending");
      const aborted = writer.abort(new Error("give up"));
      expect(await settles(aborted)).toBe(reset ? "resolved" : "ERR_UNSUPPORTED");
      expect(t.resets).toBe(1);
      expect(await settles(closing)).not.toBe("pending");
      expect(await settles(write)).not.toBe("pending");
      expect(await settles(s.closed)).toBe("resolved");
      expect(await settles(s.close())).toBe("resolved");
    });
  }

  it("an already aborted write queues nothing, before and after the connection opens", async () => {
    const t = stuckTransport();
    const s = socketOn(t, true);
    const reason = new Error("no");
    await expect(s.write("early", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await s.opened;
    await expect(s.write("late", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(t.written).toBe(0);
  });
});
