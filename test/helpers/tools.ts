/*
 * Outside programs a test needs (socat, nc, openssl, chromium, ip, ...). Where one is missing the
 * test is reported as *skipped*, with the program and its install command as the skip note, and
 * counted apart from passed. CI sets UNISOCK_REQUIRE_TOOLS=1 (`.ci/run` installs every program), and
 * then a missing program is a failure: CI can never skip silently.
 */
import { accessSync, constants } from "node:fs";

export interface SkipContext {
  skip(note?: string): never;
}

/** The Debian package that brings each program (`apt-get install -y <package>`). */
export const PACKAGE_OF: Record<string, string> = {
  socat: "socat",
  nc: "netcat-openbsd",
  curl: "curl",
  openssl: "openssl",
  chromium: "chromium",
  ip: "iproute2",
  ss: "iproute2",
  nft: "nftables",
  python3: "python3",
};

/** Whether missing programs and privileges fail the test instead of skipping it (CI). */
export const toolsRequired = (): boolean => process.env.UNISOCK_REQUIRE_TOOLS === "1";

/** The absolute path of an executable program named `name`, searched on PATH and the usual places. */
export function findTool(name: string): string | undefined {
  if (name.startsWith("/")) return executable(name) ? name : undefined;
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    if (dir && executable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The install command for `name`, as a skip note or error message shows it. */
export const installHint = (name: string): string =>
  `apt-get update && apt-get install -y ${PACKAGE_OF[name.split("/").pop()!] ?? name}`;

/**
 * The path of program `name`. If it is missing: skips the running test with a note naming the
 * program and its install command, or, under UNISOCK_REQUIRE_TOOLS=1, throws (the test fails).
 */
export function needTool(ctx: SkipContext, name: string): string {
  const path = findTool(name);
  if (path) return path;
  return unavailable(ctx, `needs ${name} (${installHint(name)})`);
}

/** Skips (or fails under UNISOCK_REQUIRE_TOOLS=1) unless the process runs as root, saying why root is needed. */
export function needRoot(ctx: SkipContext, why: string): void {
  const uid = (process as { getuid?: () => number }).getuid?.();
  if (uid === 0) return;
  unavailable(ctx, `needs root: ${why}`);
}

function unavailable(ctx: SkipContext, note: string): never {
  if (toolsRequired()) throw new Error(`${note}; UNISOCK_REQUIRE_TOOLS=1 makes this a failure`);
  return ctx.skip(note);
}
