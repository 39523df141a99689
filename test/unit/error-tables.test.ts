import { describe, expect, it } from "vitest";
import { toSocketError } from "../../src/core/errors.ts";
import { bunErrors } from "../../src/adapters/bun/context.ts";
import { denoError, denoErrors } from "../../src/adapters/deno/context.ts";
import { nodeErrors } from "../../src/adapters/node/context.ts";

/** A native error as a runtime makes it: a class name, maybe a code, errno, syscall. */
function native(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  const e = new Error(message);
  e.name = name;
  return Object.assign(e, extra);
}

describe("core: each runtime's native errors map to the contract's codes", () => {
  it("Node: libc codes with negative errno, Node's own ERR_* codes, OpenSSL verification codes", () => {
    const refused = toSocketError(
      native("Error", "connect ECONNREFUSED", { code: "ECONNREFUSED", errno: -111, syscall: "connect" }),
      nodeErrors,
    );
    expect(refused).toMatchObject({ code: "ECONNREFUSED", errno: 111, syscall: "connect", name: "SocketError" });
    expect(refused.cause).toBeInstanceOf(Error);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ code: "ECONNRESET", errno: -104 }, "ECONNRESET"],
      [{ code: "EPIPE", errno: -32 }, "EPIPE"],
      [{ code: "EADDRINUSE", errno: -98 }, "EADDRINUSE"],
      [{ code: "EADDRNOTAVAIL", errno: -99 }, "EADDRNOTAVAIL"],
      [{ code: "EMFILE", errno: -24 }, "EMFILE"],
      [{ code: "ENFILE", errno: -23 }, "EMFILE"],
      [{ code: "ENOTFOUND" }, "ENOTFOUND"],
      [{ code: "EAI_AGAIN" }, "ENOTFOUND"],
      [{ code: "ERR_STREAM_WRITE_AFTER_END" }, "EPIPE"],
      [{ code: "ERR_STREAM_DESTROYED" }, "ECLOSED"],
      [{ code: "ERR_SOCKET_DGRAM_NOT_RUNNING" }, "ECLOSED"],
      [{ code: "ERR_SOCKET_BAD_PORT" }, "EINVAL"],
      [{ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }, "ERR_TLS_CERT"],
      [{ code: "CERT_HAS_EXPIRED" }, "ERR_TLS_CERT"],
      [{ code: "ERR_TLS_CERT_ALTNAME_INVALID" }, "ERR_TLS_CERT"],
      [{ code: "ERR_SSL_WRONG_VERSION_NUMBER" }, "ERR_TLS_HANDSHAKE"],
    ];
    for (const [extra, code] of cases)
      expect(toSocketError(native("Error", "x", extra), nodeErrors).code, String(extra.code)).toBe(code);
  });

  it("Deno: Deno.errors classes by name, with or without a code; unnamed lookup failures", () => {
    const cases: Array<[Error, string]> = [
      [native("ConnectionRefused", "Connection refused (os error 111)", { code: "ECONNREFUSED" }), "ECONNREFUSED"],
      [native("ConnectionReset", "Connection reset by peer (os error 104)", { code: "ECONNRESET" }), "ECONNRESET"],
      [native("BrokenPipe", "Broken pipe (os error 32)", { code: "EPIPE" }), "EPIPE"],
      [native("AddrInUse", "Address already in use (os error 98)", { code: "EADDRINUSE" }), "EADDRINUSE"],
      [native("BadResource", "Bad resource ID"), "ECLOSED"],
      [native("Interrupted", "operation canceled", { code: "EINTR" }), "ECLOSED"],
      [native("NotFound", "No such file or directory (os error 2)", { code: "ENOENT" }), "ENOENT"],
      // Not a reset: Deno names it only by its code (it was ECONNRESET "Too many open files" before EMFILE).
      [native("Error", "Too many open files (os error 24)", { code: "EMFILE" }), "EMFILE"],
      [native("InvalidData", "invalid peer certificate: UnknownIssuer"), "ERR_TLS_CERT"],
      [native("InvalidData", "invalid peer certificate: Expired"), "ERR_TLS_CERT"],
      [native("InvalidData", "received corrupt message of type InvalidContentType"), "ERR_TLS_HANDSHAKE"],
      // rustls' own words, which only Deno's table knows (core knows OpenSSL's).
      [native("InvalidData", "NotValidForName"), "ERR_TLS_CERT"],
    ];
    for (const [err, code] of cases)
      expect(toSocketError(err, denoErrors).code, `${err.name}: ${err.message}`).toBe(code);
    expect(denoError(new Error("failed to lookup address information: Name or service not known")).code).toBe(
      "ENOTFOUND",
    );
  });

  it("Bun: connect errors with negative errno, listen errors with positive errno, DNS_* codes", () => {
    expect(
      toSocketError(native("Error", "Failed to connect", { code: "ECONNREFUSED", errno: -111 }), bunErrors),
    ).toMatchObject({ code: "ECONNREFUSED", errno: 111 });
    expect(
      toSocketError(native("Error", "Failed to listen", { code: "EADDRINUSE", errno: 98 }), bunErrors),
    ).toMatchObject({ code: "EADDRINUSE", errno: 98 });
    expect(
      toSocketError(
        native("Error", "bind EMFILE 127.0.0.1", { code: "EMFILE", errno: 24, syscall: "bind" }),
        bunErrors,
      ),
    ).toMatchObject({ code: "EMFILE", errno: 24 });
    expect(
      toSocketError(native("DNSException", "getaddrinfo ENOTFOUND", { code: "DNS_ENOTFOUND", errno: 4 }), bunErrors)
        .code,
    ).toBe("ENOTFOUND");
    expect(toSocketError(native("Error", "x", { code: "ERR_TLS_CERT_ALTNAME_INVALID" }), bunErrors).code).toBe(
      "ERR_TLS_CERT",
    );
    expect(toSocketError(native("Error", "x", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), bunErrors).code).toBe(
      "ERR_TLS_CERT",
    );
  });

  it("rustls' words for a refused certificate are the Deno adapter's knowledge, not core's", () => {
    const handshake = { InvalidData: "ERR_TLS_HANDSHAKE" } as const;
    expect(toSocketError(native("InvalidData", "NotValidForName"), handshake).code).toBe("ERR_TLS_HANDSHAKE");
    expect(toSocketError(native("InvalidData", "NotValidForName"), denoErrors).code).toBe("ERR_TLS_CERT");
  });

  it("an error nobody knows keeps its message and cause under the fallback code: never swallowed", () => {
    const odd = native("WeirdError", "something odd", { code: "E_SOMETHING" });
    const mapped = toSocketError(odd, nodeErrors, { address: "127.0.0.1", port: 1 }, "EPIPE");
    expect(mapped).toMatchObject({ code: "EPIPE", address: "127.0.0.1", port: 1 });
    expect(mapped.message).toContain("something odd");
    expect(mapped.cause).toBe(odd);
    expect(mapped.errno).toBe(32); // the errno that goes with the code
    expect(toSocketError(mapped, nodeErrors)).toBe(mapped);
  });
});
