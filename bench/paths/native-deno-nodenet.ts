/*
 * Deno's built-in node:net, driven exactly as native-node.ts drives Node's: the same code, run on
 * Deno. Issue 14 asks whether a Deno stream socket may go through node:net (which can send a
 * reset, where Deno.Conn cannot) at close to Deno.connect's speed; with this path every full run
 * sets the two side by side (bulk in two processes and in one, echo, connections).
 */
import type { Path } from "../lib/common.ts";
import { path as node } from "./native-node.ts";

export const path: Pick<Path, "bulk" | "echo" | "conn"> = { bulk: node.bulk, echo: node.echo, conn: node.conn };
