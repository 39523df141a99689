/*
 * Open descriptors, for leak tests: /proc/self/fd, each socket matched to its TCP connection in
 * /proc/net (Linux). Counted for one port rather than for the whole process, because Bun runs the
 * test files as threads of one process, sharing one descriptor table. A socket whose connection is
 * gone from /proc/net while its descriptor stays open (what a leak looks like once the peer has
 * closed too) belongs to no port: it is counted as well.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { sleep } from "./streams.ts";

/** Whether this system lets a test count descriptors (Linux's /proc). */
export const canCountFds: boolean = existsSync("/proc/self/fd") && existsSync("/proc/net/tcp");

const SOCKET = /^socket:\[(\d+)\]$/;
const LISTEN = "0A";

/** The socket inodes /proc/net lists, and among them the TCP connections (not listeners) on `port`. */
function knownSockets(port: number): { known: Set<string>; onPort: Set<string> } {
  const known = new Set<string>();
  const onPort = new Set<string>();
  for (const table of ["tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "netlink", "packet"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, "utf8");
    } catch {
      continue;
    }
    const lines = text.split("\n");
    const header = lines[0]!.trim().split(/\s+/);
    const inodeAt = table === "unix" || table === "netlink" || table === "packet" ? header.indexOf("Inode") : 9;
    for (const line of lines.slice(1)) {
      const f = line.trim().split(/\s+/);
      const inode = f[inodeAt === -1 ? f.length - 1 : inodeAt];
      if (inode === undefined || inode === "0") continue;
      known.add(inode);
      if (!table.startsWith("tcp") || f[3] === LISTEN) continue;
      const local = parseInt(f[1]!.split(":").pop()!, 16);
      const remote = parseInt(f[2]!.split(":").pop()!, 16);
      if (local === port || remote === port) onPort.add(inode);
    }
  }
  return { known, onPort };
}

/**
 * Descriptors this process holds for TCP connections to or from `port` (both ends count when
 * both are in this process; a listening socket does not), plus sockets whose connection is gone.
 */
export function connectionFds(port: number): number {
  const sockets: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the directory's own descriptor, among others)
    }
    const inode = SOCKET.exec(target)?.[1];
    if (inode !== undefined) sockets.push(inode);
  }
  const first = knownSockets(port);
  const n = sockets.filter((inode) => first.onPort.has(inode)).length;
  const missing = sockets.filter((inode) => !first.known.has(inode));
  if (missing.length === 0) return n;
  // /proc/net is read in pieces while connections come and go, so a read can miss a live one (of
  // another test, on Bun): only a socket missing from two reads counts as one with no connection.
  const again = knownSockets(port);
  return n + missing.filter((inode) => again.onPort.has(inode) || !again.known.has(inode)).length;
}

/** Polls `connectionFds(port)` until it is at most `limit` or `ms` have passed; returns the last count. */
export async function fdsSettle(port: number, limit: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const n = connectionFds(port);
    if (n <= limit || Date.now() >= end) return n;
    await sleep(10);
  }
}
