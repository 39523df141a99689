/**
 * Runs a Worker under a local workerd (the `workerd` npm package), the way the workerd example and
 * the tests do: the Worker is bundled with esbuild under the `workerd` export condition (so
 * `import "unisock"` is unisock/workerd), and workerd's config lets its sockets reach loopback and
 * private addresses (the "internet" network's allow-list; Cloudflare's own network refuses those)
 * and trusts the CA in $TLS_CA (by default the repository's test CA), since a Worker cannot pass a
 * CA per connection.
 *
 *   node examples/workerd-serve.ts [port] [worker.ts]
 *
 * Port from argv, then $PORT, then 8787 (0 picks a free one); the worker defaults to
 * examples/workerd-client.ts. Prints `workerd listening on 127.0.0.1:<port>`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

export interface ServedWorker {
  /** The port workerd serves the Worker's fetch handler on, at 127.0.0.1. */
  port: number;
  /** What workerd printed (its last 8 KB). */
  log(): string;
  /** Kills workerd (by pid) and removes its files. */
  stop(): Promise<void>;
}

/** Bundles `worker`, writes workerd's config and starts it; resolves once it listens. */
export async function serveWorker(options: {
  worker: string;
  port?: number;
  ca?: string;
  workerd?: string;
}): Promise<ServedWorker> {
  const dir = mkdtempSync(join(tmpdir(), "unisock-workerd-"));
  const esbuild = join(root, "node_modules/.bin/esbuild");
  const args = [
    options.worker,
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    "--target=es2022",
    "--conditions=workerd,worker,unisock-source",
  ];
  const bundle = spawnSync(
    esbuild,
    [...args, "--external:cloudflare:*", `--outfile=${join(dir, "worker.js")}`, "--log-level=warning"],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (bundle.status !== 0) throw new Error(`esbuild failed: ${bundle.stderr || bundle.error}`);
  const trusted =
    options.ca === undefined ? "" : `, tlsOptions = (trustedCertificates = [${JSON.stringify(options.ca)}])`;
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (modules = [(name = "worker.js", esModule = embed "worker.js")], compatibilityDate = "2025-09-01")),
    (name = "internet", network = (allow = ["public", "private", "local"]${trusted})),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${options.port ?? 0}", http = (), service = "main")],
);
`,
  );
  // --control-fd=3: workerd writes {"event":"listen","port":N} there once its socket listens.
  const binary = options.workerd ?? join(root, "node_modules/.bin/workerd");
  const child: ChildProcess = spawn(binary, ["serve", join(dir, "config.capnp"), "--control-fd=3"], {
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let log = "";
  const keep = (c: Buffer): void => {
    log = (log + String(c)).slice(-8000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(child.pid, "SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = "";
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within 30 s:\n${log}`)), 30_000);
      (child.stdio[3] as NodeJS.ReadableStream).on("data", (c: Buffer) => {
        text += String(c);
        const m = /"event":"listen"[^}]*"port":(\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`workerd exited (${code}):\n${log}`));
      });
    });
    return { port, log: () => log, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parsePort, run } = await import("./_cli.ts");
  await run(async () => {
    const caFile = process.env.TLS_CA ?? join(root, "test/fixtures/tls/ca.pem");
    const worker = process.argv[3] ?? fileURLToPath(new URL("./workerd-client.ts", import.meta.url));
    const served = await serveWorker({
      worker,
      port: parsePort(process.argv[2] ?? process.env.PORT ?? "8787"),
      ca: readFileSync(caFile, "utf8"),
    });
    console.log(`workerd listening on 127.0.0.1:${served.port}`);
    const stop = (): void => void served.stop().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
