/*
 * Bun.udpSocket under the contract. Its quirks absorbed here:
 * - `send` takes IP literals only (no DNS): the core resolves names before it gets here.
 * - `send` returns false when the kernel's send buffer is full, and that datagram was not sent:
 *   it waits in order here and goes out on `drain` (and on a timer, in case no drain comes).
 * - Bun turns on IP_RECVERR, so even an unconnected socket reads ICMP errors from its error queue,
 *   and an oversize send's EMSGSIZE shows up there too after the synchronous throw. The kernel
 *   reports ICMP errors only to connected sockets; so do we, and the local EMSGSIZE only once.
 *   With IP_RECVERR the kernel also leaves the ICMP error pending on the socket, and the next
 *   `send` (to anyone) throws it instead of sending (oven-sh/bun#4500): an unconnected socket
 *   sends that datagram again.
 *   Without an `error` handler Bun would throw them as uncaught errors.
 * - reuseAddress and ipv6Only are not in bun-types, but Bun.udpSocket takes the same listen flags
 *   Bun's own node:dgram passes it. Buffer sizes it cannot set at all: such a socket is opened
 *   with Bun's node:dgram, which can.
 */
import { peerAddresses } from "../../core/datagram/address.ts";
import { datagramBind } from "../../core/datagram/bind.ts";
import type { DatagramSink, DatagramTransport, UdpBindPlan, UdpTarget } from "../../core/datagram/transport.ts";
import type { ErrorTable } from "../../core/errors.ts";
import { netAddr } from "../../core/options.ts";
import type { Bind } from "../../core/types.ts";
import { dnsLookup, nodeDgramErrors, openNodeDgram } from "../_node/dgram.ts";
import {
  BUN_UDP_IPV6_ONLY,
  BUN_UDP_REUSE_ADDR,
  type BunDgramNamespace,
  type BunUdpError,
  type BunUdpSocket,
  bunDgram,
} from "./_bun_dgram.ts";

/** The datagram capabilities of this adapter (see Capabilities). Bun has no Unix datagram sockets. */
export const datagramCapabilities = {
  udp: true,
  unixDatagram: false,
  broadcast: true,
  multicast: true,
  connectedDatagram: true,
  // `data` gets flags.truncated (MSG_TRUNC).
  truncationFlag: true,
  datagramTTL: true,
  icmpErrors: true,
  datagramBufferSizes: true,
} as const;

const bunDgramErrors: ErrorTable = {
  ...nodeDgramErrors,
  // Bun.udpSocket's "Invalid address" for a destination that is not an IP literal.
  ERR_INVALID_ARG_TYPE: "EINVAL",
};

/** A full send buffer, as Bun throws it instead of returning false (ENOBUFS: oven-sh/bun#37092). */
const RETRY = new Set(["EAGAIN", "EWOULDBLOCK", "ENOBUFS"]);
/** What an ICMP error becomes in the kernel's pending socket error. */
const ICMP_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "EPROTO"]);
/** Each retry clears one pending error; a send that fails more often than this fails for itself. */
const MAX_ICMP_RETRIES = 3;
/** How long a datagram waits for `drain` before it is tried again anyway. */
const RETRY_MS = 10;

interface Queued {
  data: Uint8Array;
  to: UdpTarget | null;
  resolve(): void;
  reject(err: unknown): void;
}

/** Exported for its tests (test/unit/datagram-bun-queue.test.ts); the public entry exports only `bind`. */
export async function openBunUdp(
  bun: BunDgramNamespace,
  plan: UdpBindPlan,
  sink: DatagramSink,
): Promise<DatagramTransport> {
  const connected = plan.connect !== null;
  const queue: Queued[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let sock: BunUdpSocket;

  const trySend = (data: Uint8Array, to: UdpTarget | null): boolean => {
    for (let attempt = 0; ; attempt++) {
      try {
        return to === null ? sock.send(data) : sock.send(data, to.port, to.hostname);
      } catch (err) {
        const code = (err as BunUdpError).code ?? "";
        if (RETRY.has(code)) return false;
        // An earlier datagram's ICMP error, which the kernel left pending on the socket (IP_RECVERR)
        // and returned from this send instead of sending it; reading it cleared it: send again.
        if (!connected && ICMP_ERRORS.has(code) && attempt < MAX_ICMP_RETRIES) continue;
        throw err;
      }
    }
  };
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    while (queue.length > 0 && !closed) {
      const head = queue[0]!;
      let sent: boolean;
      try {
        sent = trySend(head.data, head.to);
      } catch (err) {
        queue.shift();
        head.reject(err);
        continue;
      }
      if (!sent) {
        timer = setTimeout(flush, RETRY_MS);
        return;
      }
      queue.shift();
      head.resolve();
    }
  };

  const peerOf = peerAddresses();
  const flags = (plan.reuseAddress ? BUN_UDP_REUSE_ADDR : 0) | (plan.ipv6Only ? BUN_UDP_IPV6_ONLY : 0);
  sock = await bun.udpSocket({
    hostname: plan.hostname,
    port: plan.port,
    binaryType: "uint8array",
    ...(flags === 0 ? {} : { flags }),
    ...(plan.connect === null ? {} : { connect: { hostname: plan.connect.hostname, port: plan.connect.port } }),
    socket: {
      data: (_s, data, port, address, info) => sink.message(data, peerOf(address, port), info?.truncated ?? false),
      drain: flush,
      error: (err) => {
        if (err.errqueue === true && (!connected || err.code === "EMSGSIZE")) return;
        sink.error(err);
      },
    },
  });
  try {
    if (plan.broadcast) sock.setBroadcast(true);
  } catch (err) {
    sock.close();
    throw err;
  }
  const bound = sock.address;
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw Object.assign(new Error(`${what} failed`), { code: "EINVAL" });
  };
  return {
    localAddress: netAddr("udp", bound.address, bound.port),
    send: (data, to) => {
      const target = to as UdpTarget | null;
      if (queue.length === 0 && trySend(data, target)) return undefined;
      return new Promise<void>((resolve, reject) => {
        queue.push({ data, to: target, resolve, reject });
        timer ??= setTimeout(flush, RETRY_MS);
      });
    },
    setBroadcast: (on) => void sock.setBroadcast(on),
    setTTL: (ttl) => void sock.setTTL(ttl),
    join: (group, iface) => check(sock.addMembership(group, iface), "addMembership"),
    leave: (group, iface) => check(sock.dropMembership(group, iface), "dropMembership"),
    setMulticastTTL: (ttl) => void sock.setMulticastTTL(ttl),
    setMulticastLoopback: (on) => void sock.setMulticastLoopback(on),
    setMulticastInterface: (addr) => check(sock.setMulticastInterface(addr), "setMulticastInterface"),
    close: async () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      sock.close();
      for (const q of queue.splice(0)) q.reject(new Error("the socket was closed before the datagram was sent"));
    },
    ref: () => sock.ref(),
    unref: () => sock.unref(),
  };
}

/**
 * Opens a UDP socket with Bun's adapter (`Bun.udpSocket`); `bind({ path })`, a Unix datagram
 * socket, is ERR_UNSUPPORTED on Bun. Resolves once bound; `localAddress` has the port the system
 * chose for port 0.
 *
 * @example
 * ```ts
 * import { bind } from "unisock/bun";
 * await using udp = await bind({ hostname: "127.0.0.1" });
 * await udp.send("ping", { hostname: "127.0.0.1", port: 9999 });
 * for await (const { data, remoteAddress } of udp) console.log(data.length, remoteAddress);
 * ```
 */
export const bind: Bind = datagramBind(
  { runtime: "bun", errors: bunDgramErrors, capabilities: datagramCapabilities, lookup: dnsLookup },
  (plan, sink) => {
    if (plan.kind !== "udp") throw new Error("unreachable: unixDatagram is false");
    if (plan.recvBufferSize !== undefined || plan.sendBufferSize !== undefined) return openNodeDgram(plan, sink);
    return openBunUdp(bunDgram!, plan, sink);
  },
);
