/** unisock for Node: `import { connect, listen, bind } from "unisock/node"`. */
export * from "./adapters/node/index.ts";
