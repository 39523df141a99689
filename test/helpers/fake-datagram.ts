/*
 * A stand-in for a runtime's bound datagram socket: the other side of the core's
 * `DatagramTransport`/`DatagramSink` seam. The test delivers datagrams and ICMP errors through the
 * sink and reads what the socket asked of the transport; no network, no name lookup.
 */
import { bindDatagram } from "../../src/core/datagram/bind.ts";
import type {
  DatagramContext,
  DatagramSink,
  DatagramTransport,
  UdpTarget,
  UnixTarget,
} from "../../src/core/datagram/transport.ts";
import type { BindOptions, DatagramSocket, NetAddr } from "../../src/core/types.ts";
import { fakeContext } from "./fake-transport.ts";

export function fakeDatagramContext(): DatagramContext {
  const { runtime, errors, capabilities } = fakeContext();
  return {
    runtime,
    errors,
    capabilities,
    lookup: () => Promise.reject(Object.assign(new Error("no lookups in unit tests"), { code: "ENOTFOUND" })),
  };
}

/** The address a fake datagram comes from: its port tells the test which one it was. */
export function peer(port: number): NetAddr {
  return { transport: "udp", hostname: "127.0.0.1", port, family: "IPv4" };
}

export class FakeDatagramTransport implements DatagramTransport {
  readonly localAddress: NetAddr = peer(40000);
  readonly sent: Array<{ data: Uint8Array; to: UdpTarget | UnixTarget | null }> = [];
  closes = 0;
  /** What `demand()` was told, in order (only when made with `demand: true`). */
  readonly demands: boolean[] = [];
  sink: DatagramSink | null = null;
  readonly demand?: (wanted: boolean) => void;

  constructor(trackDemand: boolean) {
    if (trackDemand) this.demand = (wanted) => void this.demands.push(wanted);
  }

  send(data: Uint8Array, to: UdpTarget | UnixTarget | null): Promise<void> | undefined {
    this.sent.push({ data: data.slice(), to });
    return undefined;
  }

  setBroadcast(): void {}
  setTTL(): void {}
  join(): void {}
  leave(): void {}
  setMulticastTTL(): void {}
  setMulticastLoopback(): void {}
  setMulticastInterface(): void {}
  ref(): void {}
  unref(): void {}

  close(): Promise<void> {
    this.closes++;
    return Promise.resolve();
  }

  /** A datagram arrives (from `peer(port)`). */
  message(data: Uint8Array, port = 5000, truncated = false): void {
    this.sink!.message(data.slice(), peer(port), truncated);
  }

  /** The runtime reports an ICMP error (a native error with `code`). */
  icmp(code: string): void {
    this.sink!.error(Object.assign(new Error(`native ${code}`), { code }));
  }
}

/** A UDP socket bound through core's `bindDatagram` on a fake transport. */
export async function fakeDatagramSocket(
  options: BindOptions & { demand?: boolean } = {},
): Promise<{ socket: DatagramSocket<NetAddr>; fake: FakeDatagramTransport }> {
  const fake = new FakeDatagramTransport(options.demand ?? false);
  const { demand: _, ...bind } = options;
  const socket = await bindDatagram(fakeDatagramContext(), { hostname: "127.0.0.1", ...bind }, (_plan, sink) => {
    fake.sink = sink;
    return Promise.resolve(fake);
  });
  return { socket: socket as DatagramSocket<NetAddr>, fake };
}
