/*
 * Driving node:dgram under the contract, for every adapter that uses it: the Node adapter's UDP,
 * and the UDP of Deno (in both modes) and of Bun for sockets that set buffer sizes, both of which
 * ship node:dgram on their own native UDP. Node's quirks absorbed here: the socket family is fixed
 * at creation (udp4/udp6), so an IPv6 socket takes IPv4 peers only in mapped form (the core maps
 * them); `send` takes the datagram whole and calls back once it is out; a connected socket reports
 * an ICMP error as an 'error' event from recvmsg, after which it keeps working. What Deno's and
 * Bun's node:dgram do differently is said in their adapters.
 */
import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { peerAddresses } from "../../core/datagram/address.ts";
import type { DatagramSink, DatagramTransport, UdpBindPlan, UdpTarget } from "../../core/datagram/transport.ts";
import type { ErrorTable } from "../../core/errors.ts";
import { netAddr } from "../../core/options.ts";

/** node:dgram's own error codes, as Node, Deno and Bun report them. */
export const nodeDgramErrors: ErrorTable = {
  ERR_SOCKET_DGRAM_NOT_RUNNING: "ECLOSED",
  ERR_SOCKET_CLOSED: "ECLOSED",
  ECANCELED: "ECLOSED",
  ERR_SOCKET_BAD_PORT: "EINVAL",
  ERR_INVALID_ARG_VALUE: "EINVAL",
  ERR_INVALID_ARG_TYPE: "EINVAL",
  ERR_INVALID_IP_ADDRESS: "EINVAL",
  ERR_SOCKET_BAD_BUFFER_SIZE: "EINVAL",
  ERR_SOCKET_BUFFER_SIZE: "EINVAL",
  ERR_SOCKET_DGRAM_IS_CONNECTED: "EINVAL",
  ERR_SOCKET_DGRAM_NOT_CONNECTED: "EINVAL",
  ERR_SOCKET_ALREADY_BOUND: "EINVAL",
  ENOTSUP: "ERR_UNSUPPORTED",
  ENOPROTOOPT: "ERR_UNSUPPORTED",
};

/** getaddrinfo through node:dns, which Node, Deno and Bun all have (Bun's UDP takes IP literals only). */
export async function dnsLookup(hostname: string, family: 0 | 4 | 6): Promise<string> {
  return (await lookup(hostname, { family })).address;
}

export interface NodeDgramOptions {
  /**
   * Keep the process alive with a timer instead of the socket's own ref: for node:dgram in Deno,
   * whose unref() after bind only reaches the next receive (the one already pending keeps the
   * process running), while unref() before bind holds for every receive.
   */
  refByTimer?: boolean;
}

/** Binds a node:dgram socket for `plan` and wires it to `sink`. */
export function openNodeDgram(
  plan: UdpBindPlan,
  sink: DatagramSink,
  options: NodeDgramOptions = {},
): Promise<DatagramTransport> {
  const sock = dgram.createSocket({
    type: plan.family === "IPv6" ? "udp6" : "udp4",
    reuseAddr: plan.reuseAddress,
    ipv6Only: plan.ipv6Only,
    recvBufferSize: plan.recvBufferSize,
    sendBufferSize: plan.sendBufferSize,
  });
  const peerOf = peerAddresses();
  sock.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
    sink.message(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), peerOf(rinfo.address, rinfo.port), false);
  });
  if (options.refByTimer) sock.unref();
  return new Promise<DatagramTransport>((resolve, reject) => {
    const fail = (err: unknown): void => {
      try {
        sock.close();
      } catch {
        // already closed
      }
      reject(err);
    };
    sock.once("error", fail);
    const ready = (): void => {
      sock.off("error", fail);
      sock.on("error", (err) => sink.error(err));
      resolve(nodeDgramTransport(sock, options.refByTimer ?? false));
    };
    sock.bind({ address: plan.hostname, port: plan.port, exclusive: true }, () => {
      try {
        if (plan.broadcast) sock.setBroadcast(true);
      } catch (err) {
        return fail(err);
      }
      if (plan.connect === null) return ready();
      sock.connect(plan.connect.port, plan.connect.hostname, ready);
    });
  });
}

function nodeDgramTransport(sock: dgram.Socket, refByTimer: boolean): DatagramTransport {
  const bound = sock.address();
  let closed: Promise<void> | null = null;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const ref = (): void => {
    if (!refByTimer) return void sock.ref();
    if (keepAlive === undefined && closed === null) keepAlive = setInterval(() => {}, 0x7fffffff);
  };
  const unref = (): void => {
    if (!refByTimer) return void sock.unref();
    clearInterval(keepAlive);
    keepAlive = undefined;
  };
  ref();
  return {
    localAddress: netAddr("udp", bound.address, bound.port),
    send: (data, to) =>
      new Promise<void>((resolve, reject) => {
        const done = (err: Error | null): void => (err ? reject(err) : resolve());
        if (to === null) sock.send(data, done);
        else sock.send(data, (to as UdpTarget).port, (to as UdpTarget).hostname, done);
      }),
    setBroadcast: (on) => sock.setBroadcast(on),
    setTTL: (ttl) => void sock.setTTL(ttl),
    join: (group, iface) => sock.addMembership(group, iface),
    leave: (group, iface) => sock.dropMembership(group, iface),
    setMulticastTTL: (ttl) => void sock.setMulticastTTL(ttl),
    setMulticastLoopback: (on) => void sock.setMulticastLoopback(on),
    setMulticastInterface: (addr) => sock.setMulticastInterface(addr),
    close: () => {
      unref();
      return (closed ??= new Promise<void>((resolve) => {
        try {
          sock.close(() => resolve());
        } catch {
          resolve();
        }
      }));
    },
    ref,
    unref,
  };
}
