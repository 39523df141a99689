import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makeCertificates } from "../helpers/make-certs.ts";

/* The certificates the shipped conformance suite makes where the committed PEM files are absent. */
describe("makeCertificates", () => {
  const files = makeCertificates();
  const cert = (name: string): X509Certificate => new X509Certificate(files[`${name}.pem`]!);

  it("makes every file make-certs.sh makes, a key beside each leaf", () => {
    expect(Object.keys(files).sort()).toEqual([
      "ca.pem",
      "client-key.pem",
      "client-untrusted-key.pem",
      "client-untrusted.pem",
      "client.pem",
      "expired-key.pem",
      "expired.pem",
      "other-ca.pem",
      "server-key.pem",
      "server.pem",
      "untrusted-key.pem",
      "untrusted.pem",
      "wrongname-key.pem",
      "wrongname.pem",
    ]);
  });

  it("signs each leaf by its CA, and only by it", () => {
    const ca = cert("ca");
    const other = cert("other-ca");
    expect(ca.ca && other.ca).toBe(true);
    for (const leaf of ["server", "expired", "wrongname", "client"]) {
      expect(cert(leaf).checkIssued(ca) && cert(leaf).verify(ca.publicKey), leaf).toBe(true);
      expect(cert(leaf).verify(other.publicKey), leaf).toBe(false);
      expect(cert(leaf).ca, leaf).toBe(false);
    }
    for (const leaf of ["untrusted", "client-untrusted"]) expect(cert(leaf).verify(other.publicKey), leaf).toBe(true);
  });

  it("encodes every serial number as DER wants it, positive and without a leading zero byte (BoringSSL refuses one)", () => {
    for (let i = 0; i < 20; i++) {
      const set = makeCertificates();
      for (const [file, text] of Object.entries(set)) {
        if (!file.endsWith("-key.pem"))
          expect(new X509Certificate(text).serialNumber, file).toMatch(/^[1-7][0-9A-F]{31}$/i);
      }
    }
  });

  it("names and dates each certificate as the tests expect", () => {
    // Node spells ::1 out in full, Deno does not.
    expect(cert("server").subjectAltName).toMatch(
      /^DNS:localhost, IP Address:127\.0\.0\.1, IP Address:(0:0:0:0:0:0:0:1|::1)$/,
    );
    expect(cert("server").checkIP("::1")).toBe("::1");
    expect(cert("wrongname").checkHost("localhost")).toBeUndefined();
    expect(new Date(cert("server").validTo).getUTCFullYear()).toBe(2125);
    expect(new Date(cert("expired").validTo).getUTCFullYear()).toBe(2001);
    // Client authentication itself (the clientAuth usage) is proven by the mutual TLS conformance tests.
    expect(cert("client").checkHost("client.unisock.test")).toBe("client.unisock.test");
  });
});
