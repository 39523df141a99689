/** unisock for Bun: `import { connect, listen, bind } from "unisock/bun"`. */
export * from "./adapters/bun/index.ts";
