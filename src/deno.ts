/** unisock for Deno: `import { connect, listen, bind } from "unisock/deno"`. */
export * from "./adapters/deno/index.ts";
