/*
 * @arrowood.dev/socket, the existing WinterTC `connect()` for Node (Web Streams through
 * Duplex.toWeb), as a client only: it has no server side. Used for the side-by-side echo.
 */
import { connect } from "@arrowood.dev/socket";
import { echoResult, HOST, now, type Params, type Path, within } from "../lib/common.ts";

export const path = {
  echo: {
    async client(p: Params) {
      const s = connect({ hostname: HOST, port: p.port! });
      const reader = s.readable.getReader();
      const writer = s.writable.getWriter();
      await within(writer.ready, 5000, "connect");
      const msg = new Uint8Array(p.size!).fill(0x61);
      const lat = new Float64Array(p.count!);
      const total = p.warmup! + p.count!;
      const deadline = now() + p.maxSeconds * 1000;
      let t0 = now();
      let i = 0;
      for (; i < total; i++) {
        if (i === p.warmup) t0 = now();
        const sentAt = now();
        await writer.write(msg);
        for (let got = 0; got < msg.byteLength; ) {
          const r = await reader.read();
          if (r.done) throw new Error("EOF during echo");
          got += (r.value as Uint8Array).byteLength;
        }
        const t = now();
        if (i >= p.warmup!) lat[i - p.warmup!] = t - sentAt;
        if (t > deadline) {
          i++;
          break;
        }
      }
      const n = i - p.warmup!;
      const seconds = (now() - t0) / 1000;
      await s.close();
      return echoResult(lat, n, seconds);
    },
  },
} as Partial<Record<keyof Path, Partial<Path[keyof Path]>>>;
