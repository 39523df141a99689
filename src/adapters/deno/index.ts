// Placeholder until the deno adapter lands.
export * from "../node/index.ts";
