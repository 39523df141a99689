/*
 * Datagrams on Deno. With --unstable-net: Deno.listenDatagram, for UDP and Unix datagram sockets
 * ("unixpacket" in Deno's terms, a SOCK_DGRAM socket). Without it: node:dgram, which Deno ships on
 * its own native UDP, so UDP works either way (never Deno.listen's reusePort without the flag: it
 * exits the process).
 *
 * Deno.listenDatagram's quirks absorbed here:
 * - SO_BROADCAST is always on: the kernel never refuses a broadcast. The off state of the contract
 *   is kept here instead, by the kernel's own rule: a send to 255.255.255.255 or to the directed
 *   broadcast address of a local interface is EACCES. (node:dgram in Deno leaves SO_BROADCAST off
 *   but reports the kernel's EACCES as "UNKNOWN", so the same check runs there too.)
 * - No connect(2): a connected socket is kept here (default destination, datagrams from others
 *   dropped), and ICMP errors never reach it (icmpErrors: false). node:dgram in Deno does the same
 *   (its connect() only records the peer: a stranger's datagram still arrives), so the filter
 *   serves both.
 * - receive() fills a 65,507-byte buffer by default and cuts a longer IPv6 or Unix datagram
 *   silently: we receive into our own, one byte longer than the largest we accept, and copy out.
 * - No unicast TTL, no multicast interface, no ipv6Only: datagramTTL and multicast are false with
 *   the flag; a socket that asks for ipv6Only is opened with node:dgram instead (same behaviour,
 *   seen from outside). Buffer sizes are set by neither (node:dgram in Deno pretends to, and
 *   makes the receive size the size of the buffer each receive allocates: never passed on).
 *   All UDP through node:dgram would give TTL and multicast with the flag too, but Deno's
 *   node:dgram allocates a zero-filled 64 KiB buffer for every datagram it receives: 2.6x the
 *   receiver's CPU per datagram of listenDatagram here (bench/deno-udp.ts, docs/bench.md).
 * - node:dgram's unref() in Deno reaches only the next receive, not the one pending since bind: the
 *   fallback keeps the process alive with a timer instead (see openNodeDgram).
 * - Unix socket files stay behind on close: removed here, as Deno.listen does for streams.
 * - A Unix datagram socket cannot send while a receive is pending on it (see nativeUnix).
 */
import { canonicalIP, peerAddresses } from "../../core/datagram/address.ts";
import { datagramBind } from "../../core/datagram/bind.ts";
import type {
  DatagramCapabilities,
  DatagramSink,
  DatagramTransport,
  UdpBindPlan,
  UdpTarget,
  UnixBindPlan,
  UnixTarget,
} from "../../core/datagram/transport.ts";
import { type ErrorTable, SocketError, unsupported } from "../../core/errors.ts";
import { netAddr } from "../../core/options.ts";
import type { Bind, NetAddr } from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";
import { dnsLookup, nodeDgramErrors, openNodeDgram } from "../_node/dgram.ts";
import { type DenoDatagramConn, type DenoDgramNamespace, denoDgram } from "./_deno_dgram.ts";

const native = typeof denoDgram?.listenDatagram === "function";

/** The datagram capabilities of this adapter (see Capabilities): they depend on --unstable-net. */
export const datagramCapabilities: DatagramCapabilities = {
  udp: true,
  unixDatagram: native,
  broadcast: true,
  multicast: !native,
  connectedDatagram: true,
  truncationFlag: true,
  datagramTTL: !native,
  icmpErrors: false,
  // node:dgram in Deno accepts buffer sizes and reports them back, but never sets them (checked with ss).
  datagramBufferSizes: false,
};

/** Deno's error classes without a libc code, and node:dgram's codes for the fallback. */
const denoDgramErrors: ErrorTable = {
  ...nodeDgramErrors,
  BadResource: "ECLOSED",
  Interrupted: "ECLOSED",
  EINTR: "ECLOSED",
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  NotFound: "ENOENT",
  PermissionDenied: "EACCES",
  NotCapable: "EACCES",
  ConnectionRefused: "ECONNREFUSED",
  NotSupported: "ERR_UNSUPPORTED",
  // One operation at a time on a resource that allows one ("already in use").
  Busy: "EINVAL",
};

/** UDP datagrams fit 65,536 bytes; one byte more than any payload tells a cut datagram apart. */
const UDP_RECEIVE_BUFFER = 65_536;
/** Unix datagrams are bounded by the sender's SO_SNDBUF (212,992 bytes by default on Linux); one more byte tells a cut one. */
const UNIX_RECEIVE_BUFFER = 256 * 1024 + 1;
/** A receive loop that fails this many times in a row gives up (the socket is broken, not busy). */
const MAX_RECEIVE_FAILURES = 16;

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => (n << 8) | Number(part), 0) >>> 0;
}

let broadcastCache: { at: number; addresses: Set<string> } | null = null;

/** The broadcast addresses the kernel would refuse without SO_BROADCAST: limited, and each local subnet's. */
function isBroadcast(deno: DenoDgramNamespace, ip: string): boolean {
  if (ipFamily(ip) !== "IPv4") return false;
  if (ip === "255.255.255.255") return true;
  const now = Date.now();
  if (broadcastCache === null || now - broadcastCache.at > 1000) {
    const addresses = new Set<string>();
    for (const i of deno.networkInterfaces()) {
      if (i.family !== "IPv4") continue;
      const mask = ipv4ToInt(i.netmask);
      if (~mask >>> 0 < 3) continue; // /31 and /32 have no broadcast address
      const b = (ipv4ToInt(i.address) | ~mask) >>> 0;
      addresses.add([b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join("."));
    }
    broadcastCache = { at: now, addresses };
  }
  return broadcastCache.addresses.has(ip);
}

/** Keeps broadcast off until asked, in front of a socket whose kernel flag cannot be trusted to. */
function guardBroadcast(deno: DenoDgramNamespace, inner: DatagramTransport, plan: UdpBindPlan): DatagramTransport {
  let on = plan.broadcast;
  // The core passes the same target object for the same destination in a row: its canonical form is kept.
  let last: UdpTarget | null = null;
  let lastIP = "";
  return {
    ...inner,
    localAddress: inner.localAddress,
    send: (data, to) => {
      const target = (to ?? plan.connect) as UdpTarget | null;
      if (target !== null && target !== last) {
        last = target;
        lastIP = canonicalIP(target.hostname);
      }
      if (!on && target !== null && isBroadcast(deno, lastIP)) {
        const address = lastIP;
        throw new SocketError("EACCES", `sending to the broadcast address ${address} needs setBroadcast(true)`, {
          syscall: "send",
          address,
          port: target.port,
        });
      }
      return inner.send(data, to);
    },
    setBroadcast: (value) => {
      inner.setBroadcast(value);
      on = value;
    },
  };
}

/**
 * Receives until the socket closes, handing each datagram (copied out of the shared buffer) to the
 * sink: UDP sends and receives may overlap, so a receive is always pending, and the datagrams the
 * application has not asked for yet wait in the core's bounded queue. Resolves when it has
 * stopped: only then has Deno let go of the socket and its port.
 */
function receiveLoop(conn: DenoDatagramConn, sink: DatagramSink, isClosed: () => boolean): Promise<void> {
  const buf = new Uint8Array(UDP_RECEIVE_BUFFER);
  const peerOf = peerAddresses();
  return (async () => {
    let failures = 0;
    while (!isClosed()) {
      let n: number;
      let from: NetAddr;
      try {
        const [view, addr] = await conn.receive(buf);
        n = view.byteLength;
        from = peerOf((addr as { hostname: string }).hostname, (addr as { port: number }).port);
        failures = 0;
      } catch (err) {
        if (isClosed() || (err as Error)?.name === "BadResource" || (err as Error)?.name === "Interrupted") return;
        sink.error(err);
        if (++failures >= MAX_RECEIVE_FAILURES) return;
        continue;
      }
      sink.message(buf.slice(0, n), from, n === UDP_RECEIVE_BUFFER);
    }
  })();
}

function nativeUdp(deno: DenoDgramNamespace, plan: UdpBindPlan, sink: DatagramSink): DatagramTransport {
  const conn = deno.listenDatagram!({
    transport: "udp",
    hostname: plan.hostname,
    port: plan.port,
    reuseAddress: plan.reuseAddress,
  });
  const addr = conn.addr as { hostname: string; port: number };
  let closed = false;
  const stopped = receiveLoop(conn, sink, () => closed);
  const noop = (): void => {};
  // Deno's address for the last target the core passed (the same object for the same destination).
  let lastTarget: UdpTarget | null = null;
  let lastAddr: { transport: "udp"; hostname: string; port: number } | null = null;
  const notHere = (what: string) => (): never => {
    throw unsupported(what, "deno with --unstable-net");
  };
  return {
    localAddress: netAddr("udp", addr.hostname, addr.port),
    send: (data, to) => {
      const t = (to ?? plan.connect) as UdpTarget;
      if (t !== lastTarget) {
        lastTarget = t;
        lastAddr = { transport: "udp", hostname: t.hostname, port: t.port };
      }
      return conn.send(data, lastAddr!);
    },
    // Always on in the kernel; the guard in front keeps the contract's state.
    setBroadcast: noop,
    setTTL: notHere("setTTL()"),
    join: notHere("multicast"),
    leave: notHere("multicast"),
    setMulticastTTL: notHere("multicast"),
    setMulticastLoopback: notHere("multicast"),
    setMulticastInterface: notHere("multicast"),
    close: async () => {
      if (!closed) {
        closed = true;
        conn.close();
      }
      await stopped;
    },
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

/**
 * Deno's Unix datagram socket takes one operation at a time: a send while a receive is pending (or
 * the reverse) fails with "Busy" (op_net_{send,recv}_unixpacket borrow the socket exclusively).
 * So a receive is pending only while the application waits for one (`demand`), never started
 * while a send is under way, and a send while one is pending fails at once with EINVAL rather
 * than wait for a datagram that may never come. Nothing is lost meanwhile: unread datagrams wait
 * in the kernel, which makes a Unix sender wait when the queue is full.
 */
function nativeUnix(deno: DenoDgramNamespace, plan: UnixBindPlan, sink: DatagramSink): DatagramTransport {
  const conn = deno.listenDatagram!({ transport: "unixpacket", path: plan.path });
  const buf = new Uint8Array(UNIX_RECEIVE_BUFFER);
  const peer = plan.connect?.path ?? null;
  let closed: Promise<void> | null = null;
  let wanted = false;
  let receiving: Promise<void> | null = null;
  let sending = 0;
  let failures = 0;

  const pump = (): void => {
    if (receiving !== null || !wanted || sending > 0 || closed !== null) return;
    receiving = (async () => {
      try {
        const [view, addr] = await conn.receive(buf);
        failures = 0;
        const path = (addr as { path: string | null }).path ?? "";
        if (peer === null || path === peer) {
          sink.message(buf.slice(0, view.byteLength), { transport: "unix", path }, view.byteLength === buf.length);
        }
      } catch (err) {
        if (closed !== null || (err as Error)?.name === "BadResource" || (err as Error)?.name === "Interrupted") return;
        sink.error(err);
        if (++failures >= MAX_RECEIVE_FAILURES) wanted = false;
      } finally {
        receiving = null;
      }
      pump();
    })();
  };

  const udpOnly = (): never => {
    throw new Error("unreachable: a UDP option on a Unix datagram socket");
  };
  return {
    localAddress: { transport: "unix", path: plan.path },
    send: (data, to) => {
      if (receiving !== null) {
        throw new SocketError(
          "EINVAL",
          "Deno cannot send on a Unix datagram socket while a receive is pending on it: send first, or receive on another socket",
          { syscall: "send" },
        );
      }
      const t = (to ?? plan.connect) as UnixTarget;
      sending++;
      return conn.send(data, { transport: "unixpacket", path: t.path }).then(
        () => {
          sending--;
          pump();
        },
        (err: unknown) => {
          sending--;
          pump();
          throw err;
        },
      );
    },
    demand: (on) => {
      wanted = on;
      pump();
    },
    setBroadcast: udpOnly,
    setTTL: udpOnly,
    join: udpOnly,
    leave: udpOnly,
    setMulticastTTL: udpOnly,
    setMulticastLoopback: udpOnly,
    setMulticastInterface: udpOnly,
    close: () =>
      (closed ??= (async () => {
        conn.close();
        await receiving;
        // We made the file (an existing one is EADDRINUSE at bind); an abstract name has none.
        if (!plan.path.startsWith("\0")) await deno.remove(plan.path).catch(() => {});
      })()),
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

/**
 * Opens a UDP socket with Deno's adapter (`Deno.listenDatagram` with `--unstable-net`, else
 * node:dgram), or with `bind({ path })` a Unix datagram socket (with --unstable-net). Resolves once
 * bound; `localAddress` has the port the system chose for port 0.
 *
 * @example
 * ```ts
 * import { bind } from "unisock/deno";
 * await using udp = await bind({ hostname: "127.0.0.1" });
 * await udp.send("ping", { hostname: "127.0.0.1", port: 9999 });
 * for await (const { data, remoteAddress } of udp) console.log(data.length, remoteAddress);
 * ```
 */
export const bind: Bind = datagramBind(
  { runtime: "deno", errors: denoDgramErrors, capabilities: datagramCapabilities, lookup: dnsLookup },
  async (plan, sink) => {
    const deno = denoDgram!;
    if (plan.kind === "unix") return nativeUnix(deno, plan, sink);
    const peer = plan.connect ? netAddr("udp", plan.connect.hostname, plan.connect.port) : null;
    const filtered: DatagramSink =
      peer === null
        ? sink
        : {
            message: (data, from, truncated) => {
              const f = from as NetAddr;
              if (f.hostname === peer.hostname && f.port === peer.port) sink.message(data, from, truncated);
            },
            error: (err) => sink.error(err),
          };
    const needsNode = !native || plan.ipv6Only;
    const inner = needsNode
      ? await openNodeDgram(plan, filtered, { refByTimer: true })
      : nativeUdp(deno, plan, filtered);
    return guardBroadcast(deno, inner, plan);
  },
);
