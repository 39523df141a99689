/** Starts test/helpers/dgram-peer.mjs in its own process, on the runtime (and Deno mode) running the tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { denoUnstableNet, runtimeName } from "./dgram-util.ts";

const peerScript = fileURLToPath(new URL("./dgram-peer.mjs", import.meta.url));

export interface Peer {
  child: ChildProcess;
  /** The next line the peer prints, or an error if it exits or stays silent for `ms`. */
  line(ms: number): Promise<string>;
  /** Resolves with the exit code, or "running" if it is still running after `ms`. */
  exited(ms: number): Promise<number | null | "running">;
  kill(): void;
}

/** The command that runs `script` on this runtime; a Deno child gets --unstable-net exactly when this one has it. */
export function command(args: string[], script = peerScript): [string, string[]] {
  const exe = process.execPath;
  if (runtimeName === "deno") {
    return [exe, ["run", "--no-config", "-A", ...(denoUnstableNet ? ["--unstable-net"] : []), script, ...args]];
  }
  return [exe, [script, ...args]];
}

/** Runs a program to its end (SIGKILL after `timeoutMs`); resolves with its exit code and output. */
export function runToEnd(
  exe: string,
  argv: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(exe, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Uint8Array) => (stdout += new TextDecoder().decode(c)));
  child.stderr!.on("data", (c: Uint8Array) => (stderr += new TextDecoder().decode(c)));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    // "close", not "exit": the process can be gone before its stdout was read to the end (seen on
    // Deno: the EMFILE child's whole report lost about one run in four).
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts dgram-peer.mjs with `args` on this runtime. */
export function startPeer(args: string[]): Peer {
  const [exe, argv] = command(args);
  return startProgram(exe, argv);
}

/** Starts any program, to read the lines it prints (see Peer). */
export function startProgram(exe: string, argv: string[]): Peer {
  const name = [exe, ...argv].join(" ");
  const child = spawn(exe, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let buffered = "";
  let stderr = "";
  const lines: string[] = [];
  const waiters: Array<(line: string | null) => void> = [];
  let ended = false;
  child.stdout!.on("data", (chunk: Uint8Array) => {
    buffered += new TextDecoder().decode(chunk);
    let i: number;
    while ((i = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  child.stderr!.on("data", (chunk: Uint8Array) => {
    stderr += new TextDecoder().decode(chunk);
  });
  const exit = new Promise<number | null>((resolve) => {
    // "close": the last lines may still be in the pipe when "exit" comes.
    child.once("close", (code) => {
      ended = true;
      for (const w of waiters.splice(0)) w(null);
      resolve(code);
    });
  });
  return {
    child,
    line: (ms) => {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      if (ended) return Promise.reject(new Error(`${name} exited; stderr: ${stderr}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} printed nothing for ${ms} ms; stderr: ${stderr}`)),
          ms,
        );
        waiters.push((line) => {
          clearTimeout(timer);
          if (line === null) reject(new Error(`${name} exited; stderr: ${stderr}`));
          else resolve(line);
        });
      });
    },
    exited: (ms) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([exit, new Promise<"running">((r) => (timer = setTimeout(() => r("running"), ms)))]).finally(
        () => clearTimeout(timer),
      );
    },
    kill: () => {
      if (!ended) child.kill("SIGKILL");
    },
  };
}
