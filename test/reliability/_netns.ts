/**
 * An impaired link between two network namespaces made for one test file, since this kernel has no
 * netem: namespaces `<tag>a` and `<tag>b` (unique by pid), joined by two TUN devices and the relay
 * _relay.py, which delays, drops a share of packets, caps bandwidth and can black-hole everything.
 * a is 10.99.0.1, b is 10.99.0.2. `close()` deletes everything (call it in afterAll).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Link {
  readonly nsA: string;
  readonly nsB: string;
  readonly addrA: string;
  readonly addrB: string;
  /** Changes the link: any of `delay_ms`, `loss` (0..1), `rate_kbit`, `blackhole` (0/1). */
  set(conf: Record<string, number>): Promise<void>;
  /** The relay's counts so far. */
  stats(): Promise<string>;
  close(): Promise<void>;
}

let made = 0;

/** Deletes namespaces left by an earlier run that was killed before its afterAll (its pid is gone). */
function removeStale(ip: string): void {
  const list = execFileSync(ip, ["netns", "list"], { encoding: "utf8" });
  for (const m of list.matchAll(/^(unisock-us(\d+)n\d+[ab])\b/gm)) {
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      execFileSync(ip, ["netns", "del", m[1]!], { stdio: "ignore" });
    }
  }
}

export async function impairedLink(ip: string, python: string): Promise<Link> {
  removeStale(ip);
  const tag = `us${process.pid}n${made++}`;
  const nsA = `unisock-${tag}a`;
  const nsB = `unisock-${tag}b`;
  const tunA = `${tag}a`;
  const tunB = `${tag}b`;
  const relay = spawn(python, [fileURLToPath(new URL("./_relay.py", import.meta.url)), tunA, tunB], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  relay.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  relay.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  relay.on("exit", () => {
    for (const w of waiters.splice(0)) w();
  });
  /** Resolves with the next line matching `re` after `from` characters of output. */
  const line = async (re: RegExp, from: number): Promise<string> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const m = re.exec(out.slice(from));
      if (m) return m[0];
      if (relay.exitCode !== null || Date.now() > end) throw new Error(`relay: no ${re}\n${out}\n${err}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  const run = (...args: string[]): void => void execFileSync(ip, args, { stdio: ["ignore", "ignore", "pipe"] });
  const close = async (): Promise<void> => {
    relay.stdin!.end();
    await stop(relay);
    for (const ns of [nsA, nsB]) {
      try {
        run("netns", "del", ns);
      } catch {
        // never made
      }
    }
  };
  try {
    await line(/^ready$/m, 0);
    for (const [ns, tun, local, peer] of [
      [nsA, tunA, "10.99.0.1", "10.99.0.2"],
      [nsB, tunB, "10.99.0.2", "10.99.0.1"],
    ] as const) {
      run("netns", "add", ns);
      run("link", "set", tun, "netns", ns);
      run("-n", ns, "addr", "add", local, "peer", peer, "dev", tun);
      run("-n", ns, "link", "set", tun, "up");
      run("-n", ns, "link", "set", "lo", "up");
      // Keep-alive defaults of this namespace, for runtimes that cannot set a delay per socket:
      // first probe after 1 s idle, then every 1 s, 3 unanswered probes end the connection.
      for (const [key, value] of [
        ["tcp_keepalive_time", 1],
        ["tcp_keepalive_intvl", 1],
        ["tcp_keepalive_probes", 3],
      ]) {
        run("netns", "exec", ns, "sh", "-c", `echo ${value} > /proc/sys/net/ipv4/${key}`);
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    nsA,
    nsB,
    addrA: "10.99.0.1",
    addrB: "10.99.0.2",
    async set(conf) {
      const from = out.length;
      relay.stdin!.write(
        `set ${Object.entries(conf)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}\n`,
      );
      await line(/^ok$/m, from);
    },
    async stats() {
      const from = out.length;
      relay.stdin!.write("stats\n");
      return line(/^stats .*$/m, from);
    },
    close,
  };
}

/** Waits (bounded) for the relay to exit after its stdin closed; SIGKILL by pid if it does not. */
async function stop(relay: ChildProcess): Promise<void> {
  if (relay.exitCode !== null || relay.signalCode !== null) return;
  const gone = new Promise((r) => relay.once("exit", r));
  let timer: ReturnType<typeof setTimeout> | undefined;
  if ((await Promise.race([gone, new Promise((r) => (timer = setTimeout(() => r("late"), 2000)))])) === "late") {
    relay.kill("SIGKILL");
    await gone;
  }
  clearTimeout(timer);
}
