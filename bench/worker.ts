/*
 * One side of one bench run, in whichever runtime runs this file:
 *   worker.ts <server|client|both> <scenario> <native|nodedgram|deno-nodenet|direct|streams|arrowood>[+<server's path>] '<params json>'
 * "both" runs the client and the server in this one process. It prints JSON lines:
 * {"type":"ready",...} once listening (servers) or at a checkpoint,
 * then {"type":"result",...}, {"type":"unavailable","reason"} or {"type":"error","message"},
 * and exits. A hard timer ends it whatever happens.
 */
import { cpuUs, type Params, type Path, type Role, within } from "./lib/common.ts";
import { args, emit, exit, runtime } from "./lib/rt.ts";

const [role, scenario, pathName, json] = args();
const params = JSON.parse(json ?? "{}") as Params;

setTimeout(
  () => {
    void emit({ type: "error", message: `hard time limit in ${runtime} ${role}` }).finally(() => exit(3));
  },
  (params.maxSeconds + 10) * 1000,
);

class Unavailable extends Error {}

async function load(name: string): Promise<Path> {
  if (name === "native") return (await import(`./paths/native-${runtime}.ts`)).path as Path;
  // node:dgram as Deno and Bun ship it, driven the way a Node programmer writes it (bench/deno-udp.ts).
  if (name === "nodedgram") return (await import("./paths/native-node.ts")).path as Path;
  if (name === "arrowood") {
    if (runtime !== "node") throw new Unavailable("@arrowood.dev/socket is Node-only");
    return (await import("./paths/arrowood.ts")).path as Path;
  }
  if (name === "deno-nodenet") {
    if (runtime !== "deno") throw new Unavailable("deno-nodenet is node:net as Deno ships it");
    return (await import("./paths/native-deno-nodenet.ts")).path as Path;
  }
  let mod: any; // the adapter module of whichever src/ copy BENCH_UNISOCK_SRC names
  // BENCH_UNISOCK_SRC (run.ts --src=DIR) points at another copy of src/, for before/after comparisons.
  const g = globalThis as unknown as {
    Deno?: { env: { get(k: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  const src =
    (g.Deno ? g.Deno.env.get("BENCH_UNISOCK_SRC") : g.process?.env.BENCH_UNISOCK_SRC) ??
    new URL("../src", import.meta.url).pathname;
  try {
    mod = await import(`${src}/${runtime}.ts`);
  } catch (err) {
    throw new Unavailable(`unisock's ${runtime} adapter does not load: ${(err as Error).message.split("\n")[0]}`);
  }
  const { unisockPath } = await import("./paths/unisock.ts");
  if (scenario === "udp" && !mod.capabilities?.udp)
    throw new Unavailable(`unisock's ${runtime} adapter has no UDP yet (capabilities.udp is false)`);
  return unisockPath(mod, name as "direct" | "streams");
}

/** Client and server in this one process (role "both"): the server's result rides along in `server`. */
async function both(client: Role, server: Role): Promise<Record<string, unknown>> {
  let port: unknown;
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const served = server(params, async (info) => {
    port = info.port;
    ready();
  });
  await Promise.race([listening, served.then(() => Promise.reject(new Error("the server ended before listening")))]);
  const result = await client({ ...params, port: port as number }, async () => {});
  return { ...result, server: await within(served, 10_000, "server end") };
}

try {
  // "native", or "arrowood+native": the client's path, then the server's when they differ.
  const [clientName, serverName = clientName] = pathName!.split("+");
  const sc = scenario as keyof Path;
  const clientPath = await load(clientName!);
  const serverPath = serverName === clientName ? clientPath : await load(serverName!);
  const fn = role === "both" ? null : (role === "server" ? serverPath : clientPath)[sc]?.[role as "server" | "client"];
  const client = clientPath[sc]?.client;
  const server = serverPath[sc]?.server;
  if (role === "both" ? !client || !server : !fn) throw new Unavailable(`${pathName} has no ${scenario} ${role}`);
  // CPU time is counted from the start for a client and from "ready" for a server: a figure that
  // noise from other processes on the machine disturbs far less than wall-clock rates.
  let cpu0 = cpuUs();
  const result =
    role === "both"
      ? await both(client!, server!)
      : await fn!(params, (info) => {
          if (role === "server") cpu0 = cpuUs();
          return emit({ type: "ready", ...info });
        });
  await emit({ type: "result", ...result, cpuUs: cpuUs() - cpu0 });
  exit(0);
} catch (err) {
  const e = err as Error & { code?: string };
  if (err instanceof Unavailable || e.code === "ERR_UNSUPPORTED")
    await emit({ type: "unavailable", reason: e.message });
  else await emit({ type: "error", message: `${e.name}: ${e.message}${e.code ? ` (${e.code})` : ""}` });
  exit(1);
}
