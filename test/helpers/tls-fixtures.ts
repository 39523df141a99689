/**
 * The TLS test certificates (made by test/fixtures/tls/make-certs.sh, committed as PEM). Read with
 * node:fs, which works in all three runtimes, so no test ever calls openssl to get them. The npm
 * package ships the conformance suite without them (no private key is published): there the same
 * set is made afresh in a temporary directory (./make-certs.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeCertificates } from "./make-certs.ts";

const committed = fileURLToPath(new URL("../fixtures/tls/", import.meta.url));
const dir = existsSync(join(committed, "ca.pem")) ? committed : writeCertificates();

/** The absolute path of a fixture file, for tools that take paths (openssl). */
export function fixturePath(name: string): string {
  return join(dir, name);
}

const pem = (name: string): string => readFileSync(fixturePath(name), "utf8");

/** The CA the tests trust. */
export const ca: string = pem("ca.pem");
/** A second CA nobody trusts. */
export const otherCa: string = pem("other-ca.pem");
/** Signed by `ca` for localhost, 127.0.0.1 and ::1. */
export const server = { cert: pem("server.pem"), key: pem("server-key.pem") };
/** Signed by `ca` for the same names, expired in 2001. */
export const expired = { cert: pem("expired.pem"), key: pem("expired-key.pem") };
/** Signed by `ca` for wrong.example only. */
export const wrongName = { cert: pem("wrongname.pem"), key: pem("wrongname-key.pem") };
/** For localhost, signed by `otherCa`. */
export const untrusted = { cert: pem("untrusted.pem"), key: pem("untrusted-key.pem") };
/** A client certificate signed by `ca` (mutual TLS). */
export const client = { cert: pem("client.pem"), key: pem("client-key.pem") };
/** A client certificate signed by `otherCa`. */
export const untrustedClient = { cert: pem("client-untrusted.pem"), key: pem("client-untrusted-key.pem") };
