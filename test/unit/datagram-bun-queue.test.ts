/*
 * The send queue of the Bun adapter, against a stand-in for Bun.udpSocket: on loopback the kernel
 * never refuses a UDP send for a full buffer, so the path where `send` returns false (and the
 * datagram waits for `drain`) cannot be reached for real. Runs on every runtime.
 */
import { describe, expect, it } from "vitest";
import type { DatagramSink, UdpBindPlan } from "../../src/core/datagram/transport.ts";
import type {
  BunDgramNamespace,
  BunUdpHandlers,
  BunUdpOptions,
  BunUdpSocket,
} from "../../src/adapters/bun/_bun_dgram.ts";
import { openBunUdp } from "../../src/adapters/bun/datagram.ts";

const plan: UdpBindPlan = {
  kind: "udp",
  hostname: "127.0.0.1",
  port: 0,
  family: "IPv4",
  connect: null,
  reuseAddress: false,
  ipv6Only: false,
  broadcast: false,
  recvBufferSize: undefined,
  sendBufferSize: undefined,
};
const sink: DatagramSink = { message: () => {}, error: () => {} };
const to = { hostname: "127.0.0.1", port: 9 };

/** A fake Bun.udpSocket whose `send` answers from a script: true (taken), false (full) or an error code to throw. */
function fakeBun(script: Array<boolean | string>) {
  const taken: number[] = [];
  let handlers: BunUdpHandlers = {};
  const socket = {
    address: { address: "127.0.0.1", family: "IPv4", port: 40000 },
    closed: false,
    send(data: Uint8Array) {
      const answer = script.length > 0 ? script.shift()! : true;
      if (typeof answer === "string") throw Object.assign(new Error(answer), { code: answer });
      if (answer) taken.push(data[0]!);
      return answer;
    },
    close() {
      this.closed = true;
    },
  } as unknown as BunUdpSocket;
  const bun: BunDgramNamespace = {
    udpSocket: (options: BunUdpOptions) => {
      handlers = options.socket;
      return Promise.resolve(socket);
    },
  };
  return { bun, taken, drain: () => handlers.drain?.(socket) };
}

describe("datagram (Bun adapter): the send queue", () => {
  it("a send the kernel cannot take waits for drain; later sends wait behind it, in order", async () => {
    const f = fakeBun([false]);
    const t = await openBunUdp(f.bun, plan, sink);
    const results = [1, 2, 3].map((n) => t.send(new Uint8Array([n]), to));
    expect(results.every((r) => r instanceof Promise)).toBe(true);
    expect(f.taken).toEqual([]);
    f.drain();
    await Promise.all(results);
    expect(f.taken).toEqual([1, 2, 3]);
    // With the queue empty, a send is taken at once again.
    expect(t.send(new Uint8Array([4]), to)).toBe(undefined);
    expect(f.taken).toEqual([1, 2, 3, 4]);
    await t.close();
  });

  it("a full buffer reported as a thrown ENOBUFS or EAGAIN is retried, without a drain", async () => {
    const f = fakeBun(["ENOBUFS", "EAGAIN"]);
    const t = await openBunUdp(f.bun, plan, sink);
    await t.send(new Uint8Array([7]), to);
    expect(f.taken).toEqual([7]);
    await t.close();
  });

  it("an error of one queued datagram rejects that send only", async () => {
    const f = fakeBun([false, "EACCES"]);
    const t = await openBunUdp(f.bun, plan, sink);
    const a = t.send(new Uint8Array([1]), to)!;
    const b = t.send(new Uint8Array([2]), to)!;
    f.drain();
    await expect(a).rejects.toMatchObject({ code: "EACCES" });
    await b;
    expect(f.taken).toEqual([2]);
    await t.close();
  });

  it("an earlier datagram's ICMP error thrown by a send on an unconnected socket: the datagram is sent again", async () => {
    const f = fakeBun(["ECONNREFUSED"]);
    const t = await openBunUdp(f.bun, plan, sink);
    expect(t.send(new Uint8Array([5]), to)).toBe(undefined);
    expect(f.taken).toEqual([5]);
    // A send that keeps failing fails for itself, after a bounded number of tries.
    const g = fakeBun(["EHOSTUNREACH", "EHOSTUNREACH", "EHOSTUNREACH", "EHOSTUNREACH", true]);
    const u = await openBunUdp(g.bun, plan, sink);
    expect(() => u.send(new Uint8Array([6]), to)).toThrow(expect.objectContaining({ code: "EHOSTUNREACH" }));
    expect(g.taken).toEqual([]);
    await t.close();
    await u.close();
  });

  it("on a connected socket the ICMP error is the send's own: it is reported, not retried", async () => {
    const f = fakeBun(["ECONNREFUSED"]);
    const t = await openBunUdp(f.bun, { ...plan, connect: { hostname: "127.0.0.1", port: 9 } }, sink);
    expect(() => t.send(new Uint8Array([5]), null)).toThrow(expect.objectContaining({ code: "ECONNREFUSED" }));
    expect(f.taken).toEqual([]);
    await t.close();
  });

  it("close rejects what is still queued", async () => {
    const f = fakeBun([false, false, false, false, false]);
    const t = await openBunUdp(f.bun, plan, sink);
    const a = t.send(new Uint8Array([1]), to)!;
    const done = expect(a).rejects.toThrow(/closed/);
    await t.close();
    await done;
    expect(f.taken).toEqual([]);
  });
});
