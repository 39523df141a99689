// Placeholder until the bun adapter lands.
export * from "../node/index.ts";
