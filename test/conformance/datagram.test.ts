/*
 * Datagram conformance: the same assertions on Node, Deno (with and without --unstable-net) and
 * Bun. Loopback only: nothing here sends to an address that could leave the machine. Broadcast
 * goes to 127.255.255.255 (lo's own broadcast address), multicast leaves through lo with TTL 1.
 * What a runtime cannot do is asserted as ERR_UNSUPPORTED under a false capability, never skipped.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { bind, capabilities, type DatagramSocket, runtime } from "unisock";
import { type Peer, startProgram } from "../helpers/dgram-spawn.ts";
import { needTool } from "../helpers/tools.ts";
import { unsupportedHere } from "../helpers/unsupported.ts";
import {
  dec,
  deadPort,
  denoUnstableNet,
  enc,
  expectCode,
  expectNothing,
  foreignAddress,
  kernelBufferSizes,
  pattern,
  portOf,
  recv,
  runtimeName,
  sleep,
  tmpSocketPath,
  within,
} from "../helpers/dgram-util.ts";

const LOOPBACK_BROADCAST = "127.255.255.255";
const GROUP = "239.255.42.99"; // organisation-local scope; and it never leaves lo (see the multicast tests)

describe("datagram: the adapter and its capabilities", () => {
  it("is the adapter of the runtime running the suite", () => {
    expect(runtime).toBe(runtimeName);
  });

  it("runs Deno in the mode the script asked for (test:deno vs test:deno-stable)", () => {
    const want = process.env.UNISOCK_DENO_NET;
    if (runtimeName !== "deno") {
      expect(denoUnstableNet).toBe(false);
      return;
    }
    // The workers of `test:deno-stable` must really lack --unstable-net, or the fallback goes untested.
    if (want === "stable") expect(denoUnstableNet).toBe(false);
    else expect(denoUnstableNet).toBe(true);
  });

  it("reports the datagram capabilities of this runtime", () => {
    const expected = {
      node: { unixDatagram: false, multicast: true, datagramTTL: true, icmpErrors: true, datagramBufferSizes: true },
      bun: { unixDatagram: false, multicast: true, datagramTTL: true, icmpErrors: true, datagramBufferSizes: true },
      // Deno.listenDatagram: Unix datagrams, but no TTL, no multicast interface; no connect(2) at all
      // (node:dgram would give TTL and multicast, at 2.6x the receive cost: bench/deno-udp.ts).
      "deno-unstable": {
        unixDatagram: true,
        multicast: false,
        datagramTTL: false,
        icmpErrors: false,
        datagramBufferSizes: false,
      },
      // node:dgram inside Deno: all of UDP but ICMP errors (its connect() is no connect(2)) and buffer
      // sizes (accepted, never set); no Unix datagrams.
      "deno-stable": {
        unixDatagram: false,
        multicast: true,
        datagramTTL: true,
        icmpErrors: false,
        datagramBufferSizes: false,
      },
    }[runtimeName === "deno" ? (denoUnstableNet ? "deno-unstable" : "deno-stable") : runtimeName];
    expect({
      udp: capabilities.udp,
      broadcast: capabilities.broadcast,
      connectedDatagram: capabilities.connectedDatagram,
      truncationFlag: capabilities.truncationFlag,
      unixDatagram: capabilities.unixDatagram,
      multicast: capabilities.multicast,
      datagramTTL: capabilities.datagramTTL,
      icmpErrors: capabilities.icmpErrors,
      datagramBufferSizes: capabilities.datagramBufferSizes,
    }).toEqual({ udp: true, broadcast: true, connectedDatagram: true, truncationFlag: true, ...expected });
  });
});

describe("datagram: bind", () => {
  it("binds IPv4 loopback on an ephemeral port and reports it", async () => {
    await using s = await bind({ hostname: "127.0.0.1" });
    expect(s.localAddress).toEqual({
      transport: "udp",
      hostname: "127.0.0.1",
      port: s.localAddress.port,
      family: "IPv4",
    });
    expect(s.localAddress.port).toBeGreaterThan(0);
    expect(s.remoteAddress).toBe(null);
    expect(s.dropped).toBe(0);
  });

  it("binds IPv6 loopback, reported without brackets", async () => {
    await using s = await bind({ hostname: "[::1]" });
    expect(s.localAddress).toEqual({ transport: "udp", hostname: "::1", port: s.localAddress.port, family: "IPv6" });
  });

  it("binds 0.0.0.0 by default", async () => {
    await using s = await bind();
    expect(s.localAddress.hostname).toBe("0.0.0.0");
    expect(s.localAddress.family).toBe("IPv4");
  });

  it("resolves a host name once, at bind (localhost, from /etc/hosts)", async () => {
    await using s = await bind({ hostname: "localhost" });
    expect(s.localAddress.hostname).toBe("127.0.0.1");
  });

  it("binding an address this machine does not have is EADDRNOTAVAIL", async () => {
    const addr = foreignAddress();
    const err = await expectCode(bind({ hostname: addr }), "EADDRNOTAVAIL");
    expect(err.address).toBe(addr);
  });

  it("a port in use is EADDRINUSE without reuseAddress, on either side", async () => {
    await using a = await bind({ hostname: "127.0.0.1" });
    await expectCode(bind({ hostname: "127.0.0.1", port: portOf(a) }), "EADDRINUSE");
    await expectCode(bind({ hostname: "127.0.0.1", port: portOf(a), reuseAddress: true }), "EADDRINUSE");
    await using b = await bind({ hostname: "127.0.0.1", reuseAddress: true });
    await expectCode(bind({ hostname: "127.0.0.1", port: portOf(b) }), "EADDRINUSE");
  });

  it("reuseAddress lets two sockets share a port, and a broadcast to it reaches both", async () => {
    await using a = await bind({ hostname: "0.0.0.0", reuseAddress: true });
    await using b = await bind({ hostname: "0.0.0.0", port: portOf(a), reuseAddress: true });
    expect(portOf(b)).toBe(portOf(a));
    await using tx = await bind({ hostname: "127.0.0.1", broadcast: true });
    await tx.send("to both", { hostname: LOOPBACK_BROADCAST, port: portOf(a) });
    expect(dec.decode((await recv(a)).data)).toBe("to both");
    expect(dec.decode((await recv(b)).data)).toBe("to both");
  });

  it("ipv6Only keeps an IPv6 socket off IPv4: the IPv4 port stays free, and IPv4 peers are EINVAL", async () => {
    await using v6 = await bind({ hostname: "::", ipv6Only: true });
    await using v4 = await bind({ hostname: "0.0.0.0", port: portOf(v6) });
    expect(portOf(v4)).toBe(portOf(v6));
    await expectCode(v6.send("x", { hostname: "127.0.0.1", port: portOf(v4) }), "EINVAL");
    await expectCode(bind({ hostname: "127.0.0.1", ipv6Only: true }), "EINVAL");
  });

  it("without ipv6Only, '::' is dual-stack: the IPv4 port is taken too", async () => {
    await using v6 = await bind({ hostname: "::" });
    await expectCode(bind({ hostname: "0.0.0.0", port: portOf(v6) }), "EADDRINUSE");
  });

  if (capabilities.datagramBufferSizes) {
    it("sets the kernel's buffer sizes", async (ctx) => {
      await using s = await bind({ hostname: "127.0.0.1", recvBufferSize: 1 << 20, sendBufferSize: 1 << 19 });
      const { rb, tb } = kernelBufferSizes(ctx, portOf(s));
      // Linux doubles what it is given (for its bookkeeping), capped by net.core.[rw]mem_max.
      expect(rb).toBeGreaterThanOrEqual(1 << 20);
      expect(tb).toBeGreaterThanOrEqual(1 << 19);
      await using rx = await bind({ hostname: "127.0.0.1" });
      await s.send("still works", { hostname: "127.0.0.1", port: portOf(rx) });
      expect(dec.decode((await recv(rx)).data)).toBe("still works");
    });
  } else {
    it("buffer sizes are ERR_UNSUPPORTED (datagramBufferSizes is false)", async () => {
      await expectCode(bind({ hostname: "127.0.0.1", recvBufferSize: 1 << 20 }), "ERR_UNSUPPORTED");
      await expectCode(bind({ hostname: "127.0.0.1", sendBufferSize: 1 << 20 }), "ERR_UNSUPPORTED");
    });
  }

  it("bad ports, hosts and options are EINVAL before anything is bound", async () => {
    for (const port of [-1, 65536, 1.5, Number.NaN, "53" as unknown as number]) {
      await expectCode(bind({ hostname: "127.0.0.1", port }), "EINVAL");
    }
    for (const hostname of ["", "bad host", "256.1.1.1", ":::1", "-x.example"]) {
      await expectCode(bind({ hostname }), "EINVAL");
    }
    await expectCode(bind({ hostname: "127.0.0.1", recvBufferSize: 0 }), "EINVAL");
    await expectCode(bind({ hostname: "127.0.0.1", sendBufferSize: -5 }), "EINVAL");
    await expectCode(bind({ hostname: "127.0.0.1", receiveQueueBytes: 0 }), "EINVAL");
    await expectCode(bind({ hostname: "127.0.0.1", broadcast: "yes" as unknown as boolean }), "EINVAL");
    await expectCode(bind({ hostname: "127.0.0.1", connect: { hostname: "127.0.0.1", port: 0 } }), "EINVAL");
    await expectCode(bind({ hostname: "127.0.0.1", path: "/tmp/x" } as never), "EINVAL");
  });
});

describe("datagram: send and receive", () => {
  it("delivers data and reports the sender's address and port (IPv4)", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    await tx.send("hello", { hostname: "127.0.0.1", port: portOf(rx) });
    const d = await recv(rx);
    expect(dec.decode(d.data)).toBe("hello");
    expect(d.data).toBeInstanceOf(Uint8Array);
    expect(d.remoteAddress).toEqual(tx.localAddress);
    expect(d.truncated).toBe(false);
  });

  it("delivers data and reports the sender's address and port (IPv6)", async () => {
    await using rx = await bind({ hostname: "::1" });
    await using tx = await bind({ hostname: "::1" });
    await tx.send(enc.encode("hello6"), { hostname: "::1", port: portOf(rx) });
    const d = await recv(rx);
    expect(dec.decode(d.data)).toBe("hello6");
    expect(d.remoteAddress).toEqual({ transport: "udp", hostname: "::1", port: portOf(tx), family: "IPv6" });
  });

  it("a dual-stack socket talks to IPv4 peers and reports them as IPv4", async () => {
    await using dual = await bind({ hostname: "::" });
    await using v4 = await bind({ hostname: "127.0.0.1" });
    await v4.send("from v4", { hostname: "127.0.0.1", port: portOf(dual) });
    const d = await recv(dual);
    expect(d.remoteAddress).toEqual({ transport: "udp", hostname: "127.0.0.1", port: portOf(v4), family: "IPv4" });
    await dual.send("to v4", { hostname: "127.0.0.1", port: portOf(v4) });
    expect(dec.decode((await recv(v4)).data)).toBe("to v4");
    await dual.send("mapped", { hostname: "::ffff:127.0.0.1", port: portOf(v4) });
    expect(dec.decode((await recv(v4)).data)).toBe("mapped");
  });

  it("one receive per datagram: never merged, never split, and each one's bytes are its own", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    // About 100 KB in all: the kernel's default receive buffer (208 KiB) holds them unread.
    const sizes = [0, 1, 2, 7, 100, 508, 1400, 1472, 1500, 4000, 9000, 12000, 0, 3, 65, 2048, 8192, 16000, 1, 20000];
    for (const [i, n] of sizes.entries()) await tx.send(pattern(n, i), { hostname: "127.0.0.1", port: portOf(rx) });
    const got = [];
    for (let i = 0; i < sizes.length; i++) got.push(await recv(rx));
    // Checked only after all arrived: no runtime reuses a buffer under a datagram already handed out.
    for (const [i, d] of got.entries()) {
      expect(d.data.byteLength).toBe(sizes[i]);
      expect(d.data).toEqual(pattern(sizes[i]!, i));
      expect(d.truncated).toBe(false);
    }
    await expectNothing(rx, 200);
  });

  it("zero-length datagrams are delivered, as bytes and as text", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    await tx.send(new Uint8Array(0), { hostname: "127.0.0.1", port: portOf(rx) });
    await tx.send("", { hostname: "127.0.0.1", port: portOf(rx) });
    await tx.send("after", { hostname: "127.0.0.1", port: portOf(rx) });
    expect((await recv(rx)).data.byteLength).toBe(0);
    expect((await recv(rx)).data.byteLength).toBe(0);
    expect(dec.decode((await recv(rx)).data)).toBe("after");
  });

  it("65,507 bytes arrive whole over IPv4; 65,508 is EMSGSIZE and the socket stays usable", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const to = { hostname: "127.0.0.1", port: portOf(rx) };
    await tx.send(pattern(65_507, 1), to);
    const d = await recv(rx);
    expect(d.data.byteLength).toBe(65_507);
    expect(d.data).toEqual(pattern(65_507, 1));
    expect(d.truncated).toBe(false);
    const err = await expectCode(tx.send(new Uint8Array(65_508), to), "EMSGSIZE");
    expect(err.port).toBe(portOf(rx));
    await tx.send("still open", to);
    expect(dec.decode((await recv(rx)).data)).toBe("still open");
  });

  it("65,527 bytes arrive whole over IPv6 (not cut to the IPv4 limit); 65,528 is EMSGSIZE", async () => {
    await using rx = await bind({ hostname: "::1" });
    await using tx = await bind({ hostname: "::1" });
    const to = { hostname: "::1", port: portOf(rx) };
    await tx.send(pattern(65_527, 2), to);
    const d = await recv(rx);
    expect(d.data.byteLength).toBe(65_527);
    expect(d.data).toEqual(pattern(65_527, 2));
    expect(d.truncated).toBe(false);
    await expectCode(tx.send(new Uint8Array(65_528), to), "EMSGSIZE");
    // The IPv4 limit applies to an IPv4 peer of a dual-stack socket.
    await using dual = await bind({ hostname: "::" });
    await expectCode(dual.send(new Uint8Array(65_508), { hostname: "127.0.0.1", port: portOf(rx) }), "EMSGSIZE");
  });

  it("a send to a port nobody listens on never kills the socket; later sends still arrive, at once or later", async () => {
    // The kernel reports ICMP errors to connected sockets only: a UDP server answering a client
    // that went away must not lose its next reply, sent right after (odd rounds) or later (even).
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const dead = await deadPort(bind);
    for (let i = 0; i < 10; i++) {
      await tx.send(`lost ${i}`, { hostname: "127.0.0.1", port: dead });
      if (i % 2 === 0) await sleep(20);
      await tx.send(`kept ${i}`, { hostname: "127.0.0.1", port: portOf(rx) });
    }
    for (let i = 0; i < 10; i++) expect(dec.decode((await recv(rx)).data)).toBe(`kept ${i}`);
    // An unconnected socket hears nothing of the ICMP errors: its next receive is a datagram.
    await rx.send("back", { hostname: "127.0.0.1", port: portOf(tx) });
    expect(dec.decode((await recv(tx)).data)).toBe("back");
  });

  it("several senders each have their own ephemeral port, reported per datagram", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    const senders: DatagramSocket[] = [];
    try {
      for (let i = 0; i < 6; i++) senders.push(await bind({ hostname: "127.0.0.1" }));
      const ports = senders.map(portOf);
      expect(new Set(ports).size).toBe(ports.length);
      for (const [i, s] of senders.entries()) await s.send(`sender ${i}`, { hostname: "127.0.0.1", port: portOf(rx) });
      const seen = new Map<number, string>();
      for (let i = 0; i < senders.length; i++) {
        const d = await recv(rx);
        seen.set(d.remoteAddress.port, dec.decode(d.data));
      }
      expect([...seen.keys()].sort()).toEqual([...ports].sort());
      for (const [i, p] of ports.entries()) expect(seen.get(p)).toBe(`sender ${i}`);
    } finally {
      await Promise.all(senders.map((s) => s.close()));
    }
  });

  it("sends to a host name resolve it (localhost from /etc/hosts)", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    await tx.send("by name", { hostname: "localhost", port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("by name");
  });

  it("bad destinations and data are EINVAL; an IPv4 socket cannot reach an IPv6 peer", async () => {
    await using s = await bind({ hostname: "127.0.0.1" });
    await expectCode(s.send("x"), "EINVAL");
    await expectCode(s.send("x", { hostname: "127.0.0.1", port: 0 }), "EINVAL");
    await expectCode(s.send("x", { hostname: "127.0.0.1", port: 70000 }), "EINVAL");
    await expectCode(s.send("x", { hostname: "no such host!", port: 9 }), "EINVAL");
    await expectCode(s.send(42 as unknown as string, { hostname: "127.0.0.1", port: 9 }), "EINVAL");
    await expectCode(s.send("x", { hostname: "::1", port: 9 }), "EINVAL");
  });

  it("many pending receives are served in order", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const pending = [rx.receive(), rx.receive(), rx.receive()];
    for (const t of ["a", "b", "c"]) await tx.send(t, { hostname: "127.0.0.1", port: portOf(rx) });
    expect((await Promise.all(pending)).map((d) => dec.decode(d.data))).toEqual(["a", "b", "c"]);
  });
});

describe("datagram: broadcast", () => {
  it("is off by default: a send to a broadcast address is EACCES, and the socket stays usable", async () => {
    await using rx = await bind({ hostname: "0.0.0.0" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const err = await expectCode(tx.send("no", { hostname: LOOPBACK_BROADCAST, port: portOf(rx) }), "EACCES");
    expect(err.address).toBe(LOOPBACK_BROADCAST);
    await tx.send("unicast", { hostname: "127.0.0.1", port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("unicast");
  });

  it("setBroadcast(true) turns it on, setBroadcast(false) off again", async () => {
    await using rx = await bind({ hostname: "0.0.0.0" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const to = { hostname: LOOPBACK_BROADCAST, port: portOf(rx) };
    tx.setBroadcast(true);
    await tx.send("broadcast", to);
    const d = await recv(rx);
    expect(dec.decode(d.data)).toBe("broadcast");
    expect(d.remoteAddress.port).toBe(portOf(tx));
    tx.setBroadcast(false);
    await expectCode(tx.send("no", to), "EACCES");
    expect(() => tx.setBroadcast("on" as unknown as boolean)).toThrow(/boolean/);
  });

  it("bind({ broadcast: true }) turns it on from the start", async () => {
    await using rx = await bind({ hostname: "0.0.0.0" });
    await using tx = await bind({ hostname: "127.0.0.1", broadcast: true });
    await tx.send("from the start", { hostname: LOOPBACK_BROADCAST, port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("from the start");
  });
});

describe("datagram: connected sockets", () => {
  it("send needs no address, remoteAddress is the peer, and only the peer's datagrams arrive", async () => {
    await using peer = await bind({ hostname: "127.0.0.1" });
    await using stranger = await bind({ hostname: "127.0.0.1" });
    await using c = await bind({ hostname: "127.0.0.1", connect: { hostname: "127.0.0.1", port: portOf(peer) } });
    expect(c.remoteAddress).toEqual(peer.localAddress);
    await c.send("hi peer");
    const d = await recv(peer);
    expect(dec.decode(d.data)).toBe("hi peer");
    expect(d.remoteAddress).toEqual(c.localAddress);
    await stranger.send("not for you", { hostname: "127.0.0.1", port: portOf(c) });
    await peer.send("for you", { hostname: "127.0.0.1", port: portOf(c) });
    expect(dec.decode((await recv(c)).data)).toBe("for you");
    await expectNothing(c, 200);
    await expectCode(c.send("x", { hostname: "127.0.0.1", port: portOf(peer) }), "EINVAL");
  });

  it("connects by name, and an IPv6 socket to an IPv4 peer", async () => {
    await using peer = await bind({ hostname: "127.0.0.1" });
    await using byName = await bind({ connect: { hostname: "localhost", port: portOf(peer) } });
    expect(byName.remoteAddress).toEqual(peer.localAddress);
    await using dual = await bind({ hostname: "::", connect: { hostname: "127.0.0.1", port: portOf(peer) } });
    expect(dual.remoteAddress).toEqual(peer.localAddress);
    await dual.send("v6 to v4");
    expect(dec.decode((await recv(peer)).data)).toBe("v6 to v4");
    await expectCode(dual.send(new Uint8Array(65_508)), "EMSGSIZE");
  });

  it(
    capabilities.icmpErrors
      ? "reports ECONNREFUSED (ICMP port unreachable) to the next receive, once, and stays open"
      : "hears nothing of ICMP errors (icmpErrors is false), and stays open",
    async () => {
      const port = await deadPort(bind);
      await using c = await bind({ hostname: "127.0.0.1", connect: { hostname: "127.0.0.1", port } });
      await c.send("anyone?");
      if (capabilities.icmpErrors) {
        const err = await expectCode(recv(c, 3000), "ECONNREFUSED");
        expect(err.errno).toBe(111);
      } else {
        await expectNothing(c, 300);
      }
      // Still open: once someone listens there, sends arrive and replies come back.
      await using late = await bind({ hostname: "127.0.0.1", port });
      await c.send("now?");
      expect(dec.decode((await recv(late)).data)).toBe("now?");
      await late.send("yes", { hostname: "127.0.0.1", port: portOf(c) });
      expect(dec.decode((await recv(c)).data)).toBe("yes");
    },
  );
});

describe("datagram: receive queue", () => {
  it("holds what the application has not read, up to receiveQueueBytes; the rest is dropped and counted", async () => {
    // Each datagram counts its length plus 64: 1000 bytes hold six of 100.
    await using rx = await bind({ hostname: "127.0.0.1", receiveQueueBytes: 1000 });
    await using tx = await bind({ hostname: "127.0.0.1" });
    for (let i = 0; i < 20; i++) await tx.send(pattern(100, i), { hostname: "127.0.0.1", port: portOf(rx) });
    for (let i = 0; i < 100 && rx.dropped < 14; i++) await sleep(20);
    expect(rx.dropped).toBe(14);
    // The oldest are kept (like the kernel's queue): the first six, in order.
    for (let i = 0; i < 6; i++) expect((await recv(rx)).data).toEqual(pattern(100, i));
    await expectNothing(rx, 100);
    await tx.send("room again", { hostname: "127.0.0.1", port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("room again");
    expect(rx.dropped).toBe(14);
  });

  it("bounds the memory it holds, not only the bytes: a datagram keeps no larger buffer alive", async () => {
    // A runtime may hand a datagram over as a view into a bigger buffer (Deno's node:dgram: 64 KiB);
    // queued, such a view must not keep that buffer, or 1,000 one-byte datagrams would hold 64 MB.
    const bound = 64 * 1024;
    await using rx = await bind({ hostname: "127.0.0.1", receiveQueueBytes: bound });
    await using tx = await bind({ hostname: "127.0.0.1" });
    // Each one-byte datagram counts 65 bytes: 1,008 of them fit the bound, the rest are counted as dropped.
    const fit = Math.floor(bound / 65);
    for (let i = 0; i < 4000 && rx.dropped < 200; i++) {
      await tx.send(new Uint8Array([i & 255]), { hostname: "127.0.0.1", port: portOf(rx) });
      if (i % 100 === 99) await sleep(5);
    }
    expect(rx.dropped).toBeGreaterThan(0);
    // The queue is full: the first `fit` receives take what it held all at once.
    let held = 0;
    for (let i = 0; i < fit; i++) {
      const d = await recv(rx);
      expect(d.data.byteLength).toBe(1);
      held += d.data.buffer.byteLength;
    }
    expect(held).toBeLessThanOrEqual(bound);
    // Nor does a datagram handed straight to a waiting receive.
    let waiting = rx.receive();
    while ((await within(waiting, 100)) !== "pending") waiting = rx.receive();
    await tx.send("straight", { hostname: "127.0.0.1", port: portOf(rx) });
    expect((await waiting).data.buffer.byteLength).toBe(8);
  });
});

describe("datagram: close and abort", () => {
  it("close settles a pending receive with ECLOSED and ends iteration; close is idempotent", async () => {
    const s = await bind({ hostname: "127.0.0.1" });
    const pending = expectCode(s.receive(), "ECLOSED");
    const iterated: string[] = [];
    const loop = (async () => {
      for await (const d of s) iterated.push(dec.decode(d.data));
      return "ended";
    })();
    await sleep(10);
    const c1 = s.close();
    const c2 = s.close();
    await Promise.all([c1, c2]);
    await pending;
    expect(await within(loop, 2000)).toBe("ended");
    expect(iterated).toEqual([]);
    await expectCode(s.receive(), "ECLOSED");
    await expectCode(s.send("x", { hostname: "127.0.0.1", port: 9 }), "ECLOSED");
    expect(() => s.setBroadcast(true)).toThrow(/ECLOSED/);
  });

  it("close releases the port", async () => {
    const s = await bind({ hostname: "127.0.0.1" });
    const port = portOf(s);
    await s.close();
    await using again = await bind({ hostname: "127.0.0.1", port });
    expect(portOf(again)).toBe(port);
  });

  it("an aborted receive rejects with the signal's reason; the datagram goes to the next receive", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const ac = new AbortController();
    const p = rx.receive({ signal: ac.signal });
    const reason = new Error("changed my mind");
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    await expect(rx.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    await expect(rx.receive({ signal: AbortSignal.timeout(1) })).rejects.toMatchObject({ name: "TimeoutError" });
    await tx.send("next", { hostname: "127.0.0.1", port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("next");
  });

  it("bind's signal: already aborted rejects with its reason; aborted later closes the socket", async () => {
    const reason = new Error("no");
    await expect(bind({ hostname: "127.0.0.1", signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const ac = new AbortController();
    const s = await bind({ hostname: "127.0.0.1", signal: ac.signal });
    const pending = s.receive();
    ac.abort();
    await expectCode(pending, "ECLOSED");
    const port = portOf(s);
    // The port is released by the abort.
    let again: DatagramSocket | null = null;
    for (let i = 0; i < 50 && again === null; i++) {
      again = await bind({ hostname: "127.0.0.1", port }).catch(() => null);
      if (again === null) await sleep(10);
    }
    expect(again).not.toBe(null);
    await again!.close();
  });

  it("ref and unref can be called any time, also after close", async () => {
    const s = await bind({ hostname: "127.0.0.1" });
    s.unref();
    s.ref();
    await s.close();
    s.unref();
    s.ref();
  });
});

describe("datagram: Web Streams and iteration", () => {
  it("the writable sends each chunk as one datagram; the readable yields them", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const writer = tx.writable.getWriter();
    await writer.write({ data: enc.encode("one"), hostname: "127.0.0.1", port: portOf(rx) });
    await writer.write({ data: new Uint8Array(0), hostname: "127.0.0.1", port: portOf(rx) });
    await writer.write({ data: enc.encode("three"), hostname: "127.0.0.1", port: portOf(rx) });
    await expect(writer.write({ data: enc.encode("nowhere") })).rejects.toMatchObject({ code: "EINVAL" });
    const reader = rx.readable.getReader();
    const got = [];
    for (let i = 0; i < 3; i++) {
      const r = await reader.read();
      expect(r.done).toBe(false);
      got.push(dec.decode(r.value!.data));
    }
    expect(got).toEqual(["one", "", "three"]);
    expect((await within(reader.read(), 100)) === "pending").toBe(true);
    await rx.close();
    const end = await within(reader.read(), 2000);
    expect(end).toEqual({ done: true, value: undefined });
  });

  it("the readable never holds a datagram it was not asked for; cancelling it leaves the socket open", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    const reader = rx.readable.getReader();
    const pendingRead = reader.read();
    await reader.cancel();
    await pendingRead;
    await tx.send("for receive()", { hostname: "127.0.0.1", port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("for receive()");
  });

  it("a connected socket's writable takes chunks without an address", async () => {
    await using peer = await bind({ hostname: "127.0.0.1" });
    await using c = await bind({ hostname: "127.0.0.1", connect: { hostname: "127.0.0.1", port: portOf(peer) } });
    const w = c.writable.getWriter();
    await w.write({ data: enc.encode("connected") });
    await w.close();
    expect(dec.decode((await recv(peer)).data)).toBe("connected");
    await c.send("socket still open after writable.close()");
    expect(dec.decode((await recv(peer)).data)).toBe("socket still open after writable.close()");
  });

  it("async iteration yields datagrams in order; breaking out leaves the socket open", async () => {
    await using rx = await bind({ hostname: "127.0.0.1" });
    await using tx = await bind({ hostname: "127.0.0.1" });
    for (const t of ["x", "y", "z"]) await tx.send(t, { hostname: "127.0.0.1", port: portOf(rx) });
    const seen: string[] = [];
    for await (const d of rx) {
      seen.push(dec.decode(d.data));
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(["x", "y", "z"]);
    await tx.send("after break", { hostname: "127.0.0.1", port: portOf(rx) });
    expect(dec.decode((await recv(rx)).data)).toBe("after break");
  });
});

describe("datagram: TTL", () => {
  if (capabilities.datagramTTL) {
    it("setTTL takes 1 to 255 and the socket keeps working", async () => {
      await using rx = await bind({ hostname: "127.0.0.1" });
      await using tx = await bind({ hostname: "127.0.0.1" });
      tx.setTTL(1);
      tx.setTTL(255);
      expect(() => tx.setTTL(0)).toThrow(/EINVAL/);
      expect(() => tx.setTTL(256)).toThrow(/EINVAL/);
      await tx.send("ttl", { hostname: "127.0.0.1", port: portOf(rx) });
      expect(dec.decode((await recv(rx)).data)).toBe("ttl");
    });

    it("datagrams leave with the TTL set (the receiver reads it with IP_RECVTTL)", async (ctx) => {
      const probe = startTtlProbe(ctx, 2);
      try {
        const port = Number((await probe.line(5000)).replace("port ", ""));
        await using tx = await bind({ hostname: "127.0.0.1" });
        tx.setTTL(7);
        await tx.send("seven", { hostname: "127.0.0.1", port });
        expect(await probe.line(5000)).toBe("ttl=7 data=seven");
        tx.setTTL(201);
        await tx.send("two hundred and one", { hostname: "127.0.0.1", port });
        expect(await probe.line(5000)).toBe("ttl=201 data=two hundred and one");
      } finally {
        probe.kill();
      }
    });
  } else {
    // Two tests, as where TTL works, so every runtime runs the same count.
    for (const name of [
      "setTTL is ERR_UNSUPPORTED (datagramTTL is false)",
      "setTTL reaches no datagram (datagramTTL is false)",
    ]) {
      it(name, async ({ task }) => {
        await using s = await bind({ hostname: "127.0.0.1" });
        await unsupportedHere(task, () => expectCode(() => s.setTTL(64), "ERR_UNSUPPORTED"));
      });
    }
  }
});

describe("datagram: multicast (through lo only)", () => {
  if (capabilities.multicast) {
    it("join, receive a group's datagram, leave, and hear no more", async () => {
      await using rx = await bind({ hostname: "0.0.0.0", reuseAddress: true });
      await rx.multicast.join(GROUP, "127.0.0.1");
      await using tx = await bind({ hostname: "127.0.0.1" });
      // Out through lo and nowhere else, before anything is sent.
      tx.multicast.setInterface("127.0.0.1");
      tx.multicast.setTTL(1);
      tx.multicast.setLoopback(true);
      await tx.send("to the group", { hostname: GROUP, port: portOf(rx) });
      const d = await recv(rx);
      expect(dec.decode(d.data)).toBe("to the group");
      expect(d.remoteAddress.port).toBe(portOf(tx));
      await rx.multicast.leave(GROUP, "127.0.0.1");
      await tx.send("after leaving", { hostname: GROUP, port: portOf(rx) });
      await expectNothing(rx, 300);
    });

    it("a group's datagrams leave through the interface set, with the multicast TTL set (IP_RECVTTL)", async (ctx) => {
      // The probe joins the group on 127.0.0.1 only: it hears what leaves through lo, nothing else.
      const probe = startTtlProbe(ctx, 2, GROUP);
      try {
        const port = Number((await probe.line(5000)).replace("port ", ""));
        await using tx = await bind({ hostname: "127.0.0.1" });
        tx.multicast.setInterface("127.0.0.1");
        tx.multicast.setLoopback(true);
        tx.multicast.setTTL(1);
        tx.setTTL(50); // unicast only: a group's datagram keeps the multicast TTL
        await tx.send("one hop", { hostname: GROUP, port });
        expect(await probe.line(5000)).toBe("ttl=1 data=one hop");
        tx.multicast.setTTL(3);
        await tx.send("three hops", { hostname: GROUP, port });
        expect(await probe.line(5000)).toBe("ttl=3 data=three hops");
      } finally {
        probe.kill();
      }
    });

    it("bad groups, interfaces and TTLs are EINVAL", async () => {
      await using s = await bind({ hostname: "127.0.0.1" });
      await expectCode(s.multicast.join("10.0.0.1"), "EINVAL");
      await expectCode(s.multicast.join("not an address"), "EINVAL");
      await expectCode(s.multicast.join(GROUP, "lo"), "EINVAL");
      await expectCode(() => s.multicast.setInterface("lo"), "EINVAL");
      await expectCode(() => s.multicast.setTTL(0), "EINVAL");
      await expectCode(() => s.multicast.setTTL(256), "EINVAL");
      await expectCode(() => s.multicast.setLoopback(1 as unknown as boolean), "EINVAL");
    });
  } else {
    // Three tests, as where multicast works, so every runtime runs the same count.
    for (const name of [
      "join and leave are ERR_UNSUPPORTED (multicast is false)",
      "setInterface, setTTL and setLoopback are ERR_UNSUPPORTED (multicast is false)",
      "setInterface and setTTL reach no datagram (multicast is false)",
    ]) {
      it(name, async ({ task }) => {
        await using s = await bind({ hostname: "127.0.0.1" });
        await unsupportedHere(task, async () => {
          if (name.startsWith("join")) {
            await expectCode(s.multicast.join(GROUP, "127.0.0.1"), "ERR_UNSUPPORTED");
            await expectCode(s.multicast.leave(GROUP, "127.0.0.1"), "ERR_UNSUPPORTED");
          } else {
            await expectCode(() => s.multicast.setInterface("127.0.0.1"), "ERR_UNSUPPORTED");
            await expectCode(() => s.multicast.setTTL(1), "ERR_UNSUPPORTED");
            await expectCode(() => s.multicast.setLoopback(true), "ERR_UNSUPPORTED");
          }
        });
      });
    }
  }
});

/** test/helpers/ttl-probe.py, receiving `count` datagrams on loopback (on `group`, joined on lo). */
function startTtlProbe(ctx: { skip(note?: string): never }, count: number, group?: string): Peer {
  const python = needTool(ctx, "python3");
  return startProgram(python, [
    fileURLToPath(new URL("../helpers/ttl-probe.py", import.meta.url)),
    String(count),
    ...(group ? [group] : []),
  ]);
}

/**
 * The same tests on every runtime: where unixDatagram is false each checks that bind({ path }) is
 * ERR_UNSUPPORTED instead, and counts as unsupported in the matrix.
 */
function unixIt(name: string, body: () => Promise<void>): void {
  it(name, async ({ task }) => {
    if (!capabilities.unixDatagram) {
      return unsupportedHere(task, () => expectCode(bind({ path: tmpSocketPath("u") }), "ERR_UNSUPPORTED"));
    }
    await body();
  });
}

describe("datagram: Unix datagram sockets, bind({ path })", () => {
  unixIt("send and receive between two paths, each reporting the other; empty and large datagrams whole", async () => {
    const pa = tmpSocketPath("a");
    const pb = tmpSocketPath("b");
    await using a = await bind({ path: pa });
    await using b = await bind({ path: pb });
    expect(a.localAddress).toEqual({ transport: "unix", path: pa });
    expect(a.remoteAddress).toBe(null);
    await b.send("over unix", { path: pa });
    await b.send(new Uint8Array(0), { path: pa });
    // Larger than any UDP datagram: bounded by the sender's SO_SNDBUF (212,992 bytes by default).
    await b.send(pattern(200_000, 3), { path: pa });
    const d = await recv(a);
    expect(dec.decode(d.data)).toBe("over unix");
    expect(d.remoteAddress).toEqual({ transport: "unix", path: pb });
    expect((await recv(a)).data.byteLength).toBe(0);
    const big = await recv(a);
    expect(big.data.byteLength).toBe(200_000);
    expect(big.data).toEqual(pattern(200_000, 3));
    expect(big.truncated).toBe(false);
  });

  unixIt("a connected Unix socket sends without an address and hears only its peer", async () => {
    const pp = tmpSocketPath("p");
    await using peer = await bind({ path: pp });
    await using stranger = await bind({ path: tmpSocketPath("s") });
    const pc = tmpSocketPath("c");
    await using c = await bind({ path: pc, connect: { path: pp } });
    expect(c.remoteAddress).toEqual({ transport: "unix", path: pp });
    await c.send("to peer");
    expect(dec.decode((await recv(peer)).data)).toBe("to peer");
    await stranger.send("not for you", { path: pc });
    await peer.send("for you", { path: pc });
    expect(dec.decode((await recv(c)).data)).toBe("for you");
    await expectNothing(c, 200);
  });

  unixIt("close removes the socket file; an existing file is EADDRINUSE and left alone", async () => {
    const { existsSync, writeFileSync, rmSync } = await import("node:fs");
    const p = tmpSocketPath("f");
    const s = await bind({ path: p });
    expect(existsSync(p)).toBe(true);
    await s.close();
    expect(existsSync(p)).toBe(false);
    writeFileSync(p, "not a socket");
    try {
      await expectCode(bind({ path: p }), "EADDRINUSE");
      expect(existsSync(p)).toBe(true);
    } finally {
      rmSync(p, { force: true });
    }
  });

  unixIt("a send to a path nobody is bound to is ENOENT, and the socket stays usable", async () => {
    const pa = tmpSocketPath("a");
    await using a = await bind({ path: pa });
    await using b = await bind({ path: tmpSocketPath("b") });
    await expectCode(b.send("x", { path: tmpSocketPath("nobody") }), "ENOENT");
    await b.send("still here", { path: pa });
    expect(dec.decode((await recv(a)).data)).toBe("still here");
  });

  unixIt(
    "a send while a receive is pending on the same socket: Deno refuses it with EINVAL (one operation at a time)",
    async () => {
      const pa = tmpSocketPath("a");
      await using a = await bind({ path: pa });
      await using b = await bind({ path: tmpSocketPath("b") });
      const pending = b.receive();
      if (runtimeName === "deno") await expectCode(b.send("x", { path: pa }), "EINVAL");
      else await b.send("x", { path: pa });
      // The pending receive still gets its datagram, and afterwards the socket sends again.
      await a.send("reply", { path: b.localAddress.path });
      expect(dec.decode((await pending).data)).toBe("reply");
      await b.send("after", { path: pa });
      if (runtimeName !== "deno") expect(dec.decode((await recv(a)).data)).toBe("x");
      expect(dec.decode((await recv(a)).data)).toBe("after");
    },
  );

  unixIt("close settles a pending receive with ECLOSED; UDP options and bad paths are EINVAL", async () => {
    const s = await bind({ path: tmpSocketPath("x") });
    const pending = expectCode(s.receive(), "ECLOSED");
    expect(() => s.setBroadcast(true)).toThrow(/EINVAL/);
    await expectCode(s.send("x", { hostname: "127.0.0.1", port: 9 } as never), "EINVAL");
    await s.close();
    await pending;
    await expectCode(bind({ path: `/tmp/${"x".repeat(120)}` }), "EINVAL");
    await expectCode(bind({ path: "" }), "EINVAL");
  });
});
