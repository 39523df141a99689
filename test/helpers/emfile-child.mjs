/*
 * Runs out of file descriptors on purpose, in its own process started under a low `ulimit -n`
 * (see test/conformance/emfile.test.ts), on the adapter of the runtime running it. Connects to
 * `port` (a listener in the parent) until a connect fails, then tries listen and bind while no
 * descriptor is left, then closes everything and connects once more. Prints one JSON line:
 * { connected, connect, listen, bind, recovered, recoveredAfterMs } with the SocketError code of
 * each failure. Deno releases a closed connection's descriptor a little after close() resolves,
 * so the last connect is retried for up to RECOVER_MS.
 * Bounded: at most MAX_CONNECTS connections and DEADLINE_MS.
 */
const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";
// As in dgram-peer.mjs: Node strips no types under node_modules, so an installed package runs the built adapter.
const entry =
  runtime === "node" && import.meta.url.includes("/node_modules/") ? "../../dist/node.js" : `../../src/${runtime}.ts`;
const { bind, connect, listen } = await import(new URL(entry, import.meta.url).href);
const args = globalThis.Deno?.args ?? globalThis.process.argv.slice(2);
const port = Number(args[0]);
const MAX_CONNECTS = 5000;
const DEADLINE_MS = 20_000;
const RECOVER_MS = 3000;
const WATCHDOG_MS = 40_000;
const started = Date.now();
const codeOf = (err) => (err?.name === "SocketError" ? err.code : `not a SocketError: ${err?.name}: ${err?.message}`);

const sockets = [];
const report = {
  connected: 0,
  connect: null,
  listen: null,
  bind: null,
  recovered: false,
  recoveredAfterMs: null,
  stage: "connect",
};
const exit = (code) => {
  globalThis.process?.exit?.(code);
  globalThis.Deno?.exit(code);
};
// A call that never settles must not leave the parent a silent child to kill: say where it hung.
setTimeout(() => {
  console.log(JSON.stringify({ ...report, hung: `${report.stage} did not settle within ${WATCHDOG_MS} ms` }));
  exit(1);
}, WATCHDOG_MS);
while (report.connected < MAX_CONNECTS && Date.now() - started < DEADLINE_MS) {
  let s;
  try {
    s = connect({ hostname: "127.0.0.1", port });
    await s.opened;
  } catch (err) {
    report.connect = codeOf(err);
    if (s) sockets.push(s);
    break;
  }
  sockets.push(s);
  report.connected++;
}
/** "opened" (and closed again), or the code it failed with. */
const attempt = (open) => open().then((handle) => handle.close().then(() => "opened"), codeOf);
report.stage = "listen";
report.listen = await attempt(() => listen({ hostname: "127.0.0.1" }));
report.stage = "bind";
report.bind = await attempt(() => bind({ hostname: "127.0.0.1" }));
report.stage = "close";
await Promise.all(sockets.map((s) => s.close().catch(() => {})));
report.stage = "recover";
const closedAt = Date.now();
for (;;) {
  try {
    const s = connect({ hostname: "127.0.0.1", port });
    await s.opened;
    await s.close();
    report.recovered = true;
    report.recoveredAfterMs = Date.now() - closedAt;
    break;
  } catch (err) {
    report.recovered = codeOf(err);
    if (Date.now() - closedAt > RECOVER_MS) break;
    await new Promise((r) => setTimeout(r, 20));
  }
}
report.stage = "done";
console.log(JSON.stringify(report));
exit(0);
