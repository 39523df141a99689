/*
 * Datagrams between processes: the runtime under test on both ends, loopback only, every run
 * bounded by counts and deadlines. Nothing here asserts a speed: only that nothing is lost.
 */
import { describe, expect, it } from "vitest";
import { capabilities } from "unisock";
import { startPeer } from "../helpers/dgram-spawn.ts";

const COUNT = 100_000;
/**
 * Datagrams per second: far under what every runtime receives (about 200k/s). The sender also
 * stays within a window of what the receiver has reported (see test/helpers/dgram-peer.mjs), so
 * that the kernel never has to drop one for a receiver that lost the CPU on a busy machine: then
 * anything missing was lost by the library. SO_RCVBUF is made 4 MiB where the runtime can set it.
 */
const RATE = 5_000;
const RCVBUF = capabilities.datagramBufferSizes ? 4 * 1024 * 1024 : 0;

/** The kernel's count of UDP datagrams dropped for a full receive buffer, machine-wide (/proc/net/snmp). */
async function kernelRcvbufErrors(): Promise<number> {
  const { readFileSync } = await import("node:fs");
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf("RcvbufErrors")]);
}

describe("datagram: between two processes", () => {
  it(`a paced stream of ${COUNT.toLocaleString("en")} datagrams arrives complete, each once, none dropped by the library`, async () => {
    const before = await kernelRcvbufErrors();
    const receiver = startPeer(["receive", String(COUNT), "5000", String(RCVBUF)]);
    let sender: ReturnType<typeof startPeer> | null = null;
    try {
      const port = await receiver.line(30_000);
      sender = startPeer(["send", port, String(COUNT), String(RATE)]);
      const sent = JSON.parse(await sender.line(150_000)) as {
        sent: number;
        acked: number;
        windowWaits: number;
        seconds: number;
      };
      const report = JSON.parse(await receiver.line(30_000)) as {
        received: number;
        missing: number;
        firstMissing: number;
        duplicates: number;
        malformed: number;
        outOfOrder: number;
        dropped: number;
        kernelDrops: string;
        maxGapMs: number;
      };
      const kernelDrops = (await kernelRcvbufErrors()) - before;
      console.log(
        `datagram stream: sent ${sent.sent} in ${sent.seconds.toFixed(1)} s (window full ${sent.windowWaits} times); received ${JSON.stringify(report)}; machine-wide RcvbufErrors +${kernelDrops}`,
      );
      expect(sent.sent).toBe(COUNT);
      expect(report.dropped, "datagrams dropped by the library's receive queue").toBe(0);
      expect(report.malformed).toBe(0);
      expect(report.duplicates).toBe(0);
      expect(report.kernelDrops, "datagrams the kernel dropped for a full receive buffer").toBe("0");
      expect(report).toMatchObject({ received: COUNT, missing: 0, duplicates: 0, malformed: 0 });
    } finally {
      sender?.kill();
      receiver.kill();
    }
  }, 240_000);

  it("an unref'd socket with a receive pending lets the process exit; a ref'd one keeps it running", async () => {
    const unref = startPeer(["hold", "unref"]);
    const ref = startPeer(["hold", "ref"]);
    try {
      expect(await unref.line(30_000)).toBe("bound");
      expect(await ref.line(30_000)).toBe("bound");
      expect(await unref.exited(10_000)).toBe(0);
      expect(await ref.exited(1_000)).toBe("running");
    } finally {
      unref.kill();
      ref.kill();
    }
  }, 60_000);
});
