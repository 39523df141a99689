import { netAddr } from "../options.ts";
import type { NetAddr } from "../types.ts";
import { ipFamily, isIPv6 } from "../validate.ts";

/** IP addresses as datagram sockets use them: one spelling, the size limit of each IP version, multicast groups. */

/** The largest UDP payload: 65,535 minus the IP and UDP headers (IPv6 has no header checksum to count). */
export const MAX_UDP4_PAYLOAD = 65_507;
export const MAX_UDP6_PAYLOAD = 65_527;

/** The payload limit for a peer at this IP address. */
export function limitFor(ip: string): number {
  return ipFamily(ip) === "IPv4" ? MAX_UDP4_PAYLOAD : MAX_UDP6_PAYLOAD;
}

/**
 * An IP literal in one spelling: no brackets, IPv6 compressed and lower-case (so a peer can be
 * compared with what the runtime reports), an IPv4-mapped IPv6 address as the IPv4 address it is.
 */
export function canonicalIP(host: string): string {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!isIPv6(h)) return h;
  const zone = h.indexOf("%");
  const base = zone === -1 ? h : h.slice(0, zone);
  let canonical: string;
  try {
    canonical = new URL(`http://[${base}]/`).hostname.slice(1, -1);
  } catch {
    return h;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return zone === -1 ? canonical : canonical + h.slice(zone);
}

/**
 * Builds the `remoteAddress` of received datagrams, reusing the last one while the sender stays the
 * same: most traffic comes from one peer, and parsing its address for every datagram costs more
 * than the rest of the receive path. The objects are frozen, so sharing them is safe.
 */
export function peerAddresses(): (hostname: string, port: number) => NetAddr {
  let lastHost = "";
  let lastPort = -1;
  let last: NetAddr | null = null;
  return (hostname, port) => {
    if (port === lastPort && hostname === lastHost && last !== null) return last;
    lastHost = hostname;
    lastPort = port;
    last = Object.freeze(netAddr("udp", hostname, port));
    return last;
  };
}

export function isMulticast(ip: string): boolean {
  if (ipFamily(ip) === "IPv4") {
    const first = Number(ip.split(".")[0]);
    return first >= 224 && first <= 239;
  }
  return /^ff[0-9a-f]{2}:/i.test(canonicalIP(ip));
}
