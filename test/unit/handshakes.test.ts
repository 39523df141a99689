import { describe, expect, it } from "vitest";
import { HANDSHAKE_TIMEOUT_MS, PendingHandshakes } from "../../src/core/handshakes.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("core: a TLS listener's connections in their handshake", () => {
  it("the deadline is tls.handshakeTimeoutMs, 10 s by default", () => {
    expect(new PendingHandshakes({ cert: "", key: "" }).timeoutMs).toBe(HANDSHAKE_TIMEOUT_MS);
    expect(HANDSHAKE_TIMEOUT_MS).toBe(10_000);
    expect(new PendingHandshakes({ cert: "", key: "", handshakeTimeoutMs: 250 }).timeoutMs).toBe(250);
  });

  it("a handshake that ends in time is never dropped; one that does not is dropped once, at the deadline", async () => {
    const pending = new PendingHandshakes({ cert: "", key: "", handshakeTimeoutMs: 30 });
    let finished = 0;
    let stalled = 0;
    const done = pending.add(() => finished++);
    pending.add(() => stalled++);
    done();
    await sleep(10);
    expect(stalled).toBe(0);
    await sleep(80);
    expect([finished, stalled]).toEqual([0, 1]);
  });

  it("closeAll() drops those still in their handshake at once, and every later one; no deadline fires after", async () => {
    const pending = new PendingHandshakes({ cert: "", key: "", handshakeTimeoutMs: 30 });
    const drops = [0, 0, 0];
    pending.add(() => drops[0]!++);
    const done = pending.add(() => drops[1]!++);
    done();
    pending.closeAll();
    expect(drops).toEqual([1, 0, 0]);
    const late = pending.add(() => drops[2]!++);
    expect(drops).toEqual([1, 0, 1]);
    late(); // harmless
    await sleep(80);
    expect(drops).toEqual([1, 0, 1]);
  });
});
