import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The project's own Node binary (a devDependency), usable from tests in every runtime. */
export const nodeBinary: string = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));

/** Starts test/helpers/peer.mjs in `mode` under real Node; resolves with the port it printed. */
export function startNodePeer(mode: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(nodeBinary, [fileURLToPath(new URL("./peer.mjs", import.meta.url)), mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({ port: Number(line), child });
    });
    child.once("exit", (code) => reject(new Error(`peer exited with ${code} before listening`)));
    child.once("error", reject);
  });
}
