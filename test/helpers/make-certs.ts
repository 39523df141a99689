/*
 * The TLS test certificates of test/fixtures/tls/make-certs.sh, made in memory with node:crypto
 * (Node, Deno and Bun all have it), for where the committed PEM files are absent: the conformance
 * suite that ships in the npm package for `unisock matrix` carries no private key. Same names,
 * subjects, extensions and validity as the shell script; only the keys differ on every run.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// DER, just what an X.509 v3 certificate needs.
const der = (tag: number, ...parts: Uint8Array[]): Uint8Array => {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Uint8Array.of(tag, ...len), body]);
};
const seq = (...parts: Uint8Array[]): Uint8Array => der(0x30, ...parts);
const oid = (dotted: string): Uint8Array => {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) groups.unshift((x & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Uint8Array.from(bytes));
};
const positiveInt = (bytes: Uint8Array): Uint8Array =>
  der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Uint8Array.of(0), bytes]) : bytes);
const bitString = (bytes: Uint8Array, unused = 0): Uint8Array => der(0x03, Uint8Array.of(unused), bytes);
const octets = (bytes: Uint8Array): Uint8Array => der(0x04, bytes);
const TRUE = Uint8Array.of(0x01, 0x01, 0xff);
const ascii = (s: string): Buffer => Buffer.from(s, "latin1");
// UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
const time = (d: Date): Uint8Array => {
  const s = `${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
  return d.getUTCFullYear() < 2050 ? der(0x17, ascii(s.slice(2))) : der(0x18, ascii(s));
};
const name = (cn: string): Uint8Array => seq(der(0x31, seq(oid("2.5.4.3"), der(0x0c, Buffer.from(cn)))));
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));

function ipBytes(ip: string): Uint8Array {
  if (ip.includes(".")) return Uint8Array.from(ip.split(".").map(Number));
  const [head = "", tail = ""] = ip.split("::");
  const words = (s: string): number[] => (s ? s.split(":").map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}
const altNames = (names: string[]): Uint8Array =>
  seq(...names.map((n) => (n.startsWith("IP:") ? der(0x87, ipBytes(n.slice(3))) : der(0x82, ascii(n.slice(4))))));
const extension = (id: string, critical: boolean, value: Uint8Array): Uint8Array =>
  critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));

/**
 * 16 random bytes whose first is 0x10-0x7f: DER wants an INTEGER in its fewest bytes and positive,
 * and BoringSSL (Bun) refuses a certificate whose serial starts with a needless zero byte
 * (INVALID_INTEGER). Never zero-led, the serial is always 32 hex digits.
 */
function serialNumber(): Uint8Array {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x6f) | 0x10;
  return bytes;
}

interface Issued {
  cert: string;
  key: string;
  privateKey: KeyObject;
  keyId: Uint8Array;
  subject: string;
}

interface Spec {
  subject: string;
  issuer?: Issued;
  ca?: boolean;
  altNames?: string[];
  usage?: "serverAuth" | "clientAuth";
  from?: Date;
  until?: Date;
}

const FROM = new Date("2000-01-01T00:00:00Z");
const UNTIL = new Date("2125-01-01T00:00:00Z");

function issue(spec: Spec): Issued {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  // The subject key id: SHA-1 of the key's BIT STRING contents (RFC 5280 4.2.1.2, method 1); a P-256 SPKI ends with its 65-byte point.
  const keyId = createHash("sha1")
    .update(spki.subarray(spki.length - 65))
    .digest();
  const issuer = spec.issuer;
  const extensions = spec.ca
    ? [
        extension("2.5.29.19", true, seq(TRUE)),
        extension("2.5.29.15", true, bitString(Uint8Array.of(0x06), 1)), // keyCertSign, cRLSign
        extension("2.5.29.14", false, octets(keyId)),
      ]
    : [
        extension("2.5.29.19", true, seq()),
        extension("2.5.29.15", true, bitString(Uint8Array.of(0x80), 7)), // digitalSignature
        extension(
          "2.5.29.37",
          false,
          seq(oid(spec.usage === "clientAuth" ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")),
        ),
        extension("2.5.29.17", false, altNames(spec.altNames ?? [])),
        extension("2.5.29.14", false, octets(keyId)),
        extension("2.5.29.35", false, seq(der(0x80, issuer?.keyId ?? keyId))),
      ];
  const tbs = seq(
    der(0xa0, positiveInt(Uint8Array.of(2))),
    positiveInt(serialNumber()),
    ECDSA_SHA256,
    name(issuer?.subject ?? spec.subject),
    seq(time(spec.from ?? FROM), time(spec.until ?? UNTIL)),
    name(spec.subject),
    spki,
    der(0xa3, seq(...extensions)),
  );
  const signature = sign("sha256", tbs, issuer?.privateKey ?? privateKey);
  const cert = seq(tbs, ECDSA_SHA256, bitString(signature));
  const pem = (label: string, bytes: Uint8Array): string =>
    `-----BEGIN ${label}-----\n${Buffer.from(bytes).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;
  return {
    cert: pem("CERTIFICATE", cert),
    key: String(privateKey.export({ type: "pkcs8", format: "pem" })),
    privateKey,
    keyId,
    subject: spec.subject,
  };
}

const LOCAL = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"];

/** The files make-certs.sh writes, by file name (`ca.pem`, `server.pem`, `server-key.pem`, ...). */
export function makeCertificates(): Record<string, string> {
  const ca = issue({ subject: "unisock test CA", ca: true });
  const otherCa = issue({ subject: "unisock untrusted CA", ca: true });
  const leaves: Record<string, Issued> = {
    server: issue({ subject: "localhost", issuer: ca, altNames: LOCAL }),
    expired: issue({ subject: "localhost", issuer: ca, altNames: LOCAL, until: new Date("2001-01-01T00:00:00Z") }),
    wrongname: issue({ subject: "wrong.example", issuer: ca, altNames: ["DNS:wrong.example"] }),
    untrusted: issue({ subject: "localhost", issuer: otherCa, altNames: LOCAL }),
    client: issue({
      subject: "unisock test client",
      issuer: ca,
      altNames: ["DNS:client.unisock.test"],
      usage: "clientAuth",
    }),
    "client-untrusted": issue({
      subject: "unisock untrusted client",
      issuer: otherCa,
      altNames: ["DNS:client.unisock.test"],
      usage: "clientAuth",
    }),
  };
  const files: Record<string, string> = { "ca.pem": ca.cert, "other-ca.pem": otherCa.cert };
  for (const [base, issued] of Object.entries(leaves)) {
    files[`${base}.pem`] = issued.cert;
    files[`${base}-key.pem`] = issued.key;
  }
  return files;
}

/** Writes a fresh set into a temporary directory, removed when the process exits; returns its path. */
export function writeCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), "unisock-certs-"));
  for (const [file, text] of Object.entries(makeCertificates())) writeFileSync(join(dir, file), text);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
