import { describe, expect, it } from "vitest";
import {
  checkFlag,
  checkHost,
  checkKeepAliveDelay,
  checkOptions,
  checkPort,
  checkSignal,
  checkUnixPath,
  isIPv4,
  isIPv6,
  parseConnectAddress,
  show,
  signalOption,
} from "../../src/core/validate.ts";

describe("core: argument checks", () => {
  it("recognises IPv4 literals", () => {
    for (const ok of ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3"]) expect(isIPv4(ok)).toBe(true);
    for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.-1", "a.b.c.d", ""])
      expect(isIPv4(bad)).toBe(false);
  });

  it("recognises IPv6 literals, with zones and embedded IPv4", () => {
    for (const ok of [
      "::",
      "::1",
      "fe80::1",
      "2001:db8::8a2e:370:7334",
      "1:2:3:4:5:6:7:8",
      "::ffff:127.0.0.1",
      "fe80::1%lo",
      "1::",
      "1:2:3:4:5:6::7",
    ]) {
      expect(isIPv6(ok), ok).toBe(true);
    }
    for (const bad of [
      ":::",
      "1:2:3:4:5:6:7:8:9",
      "fe80::1::2",
      "12345::",
      "g::1",
      "1:2:3:4:5:6:7",
      "fe80::1%",
      "::ffff:300.0.0.1",
      "",
    ]) {
      expect(isIPv6(bad), bad).toBe(false);
    }
  });

  it("host names: IP literals, DNS names; brackets stripped; junk rejected", () => {
    expect(checkHost("[::1]")).toBe("::1");
    expect(checkHost("localhost")).toBe("localhost");
    expect(checkHost("my-host.example.com.")).toBe("my-host.example.com.");
    for (const bad of ["", " ", "a b", "-a.com", "a-.com", "a..b", "1.2.3.999", `${"x".repeat(64)}.com`, "[::1", 42]) {
      expect(() => checkHost(bad)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
  });

  it("ports: integers 0..65535, and 1..65535 where 0 makes no sense", () => {
    expect(checkPort(0)).toBe(0);
    expect(checkPort(65535)).toBe(65535);
    for (const bad of [-1, 65536, 80.5, Number.NaN, Number.POSITIVE_INFINITY, "80", null]) {
      expect(() => checkPort(bad)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    expect(() => checkPort(0, false)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("Unix paths: at most 107 bytes counted in UTF-8, no inner NUL, abstract names allowed", () => {
    expect(checkUnixPath("/tmp/a.sock")).toBe("/tmp/a.sock");
    expect(checkUnixPath("\0abstract")).toBe("\0abstract");
    expect(checkUnixPath(`/${"a".repeat(106)}`)).toHaveLength(107);
    expect(() => checkUnixPath(`/${"a".repeat(107)}`)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => checkUnixPath(`/${"é".repeat(54)}`)).toThrow(expect.objectContaining({ code: "EINVAL" })); // 109 bytes
    expect(() => checkUnixPath("/tmp/a\0b")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => checkUnixPath("")).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("connect addresses: host:port strings, bracketed IPv6, objects", () => {
    expect(parseConnectAddress("example.com:80")).toEqual({ kind: "net", hostname: "example.com", port: 80 });
    expect(parseConnectAddress("[::1]:443")).toEqual({ kind: "net", hostname: "::1", port: 443 });
    expect(parseConnectAddress({ hostname: "::1", port: 1 })).toEqual({ kind: "net", hostname: "::1", port: 1 });
    expect(parseConnectAddress({ path: "/tmp/s" })).toEqual({ kind: "unix", path: "/tmp/s" });
    for (const bad of ["::1:80", "host", "host:99999", "[::1]:0", "host:-1"]) {
      expect(() => parseConnectAddress(bad), bad).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
  });

  it("options follow WebIDL's dictionary rule: undefined and null are the defaults, any object is taken, the rest is EINVAL", () => {
    expect(checkOptions(undefined, "o")).toEqual({});
    expect(checkOptions(null, "o")).toEqual({});
    const o = { port: 1 };
    expect(checkOptions(o, "o")).toBe(o);
    for (const obj of [[], () => {}, Object.create(null)]) expect(checkOptions(obj, "o")).toBe(obj);
    for (const bad of [0, "x", true, Symbol("s"), 1n, Number.NaN]) {
      expect(() => checkOptions(bad, "listen options")).toThrow(
        expect.objectContaining({ code: "EINVAL", message: expect.stringContaining("listen options") }),
      );
    }
  });

  it("a field of the wrong type is EINVAL, null included; a signal must be an AbortSignal", () => {
    expect(checkFlag(undefined, "noDelay")).toBeUndefined();
    expect(checkFlag(false, "noDelay")).toBe(false);
    for (const bad of [null, 0, 1, "true", {}])
      expect(() => checkFlag(bad, "noDelay")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const live = new AbortController().signal;
    expect(checkSignal(live)).toBe(live);
    expect(checkSignal(undefined)).toBeUndefined();
    for (const bad of [null, "x", {}, { aborted: true, addEventListener() {} }]) {
      expect(() => checkSignal(bad)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    expect(signalOption(null, "read options")).toBeUndefined();
    expect(signalOption({ signal: live }, "read options")).toBe(live);
    expect(() => signalOption({ signal: null }, "read options")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => signalOption(5, "read options")).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("keep-alive delays: integers of milliseconds that setsockopt can take", () => {
    expect(checkKeepAliveDelay(0, "d")).toBe(0);
    expect(checkKeepAliveDelay(0x7fffffff, "d")).toBe(0x7fffffff);
    for (const bad of [-1, 1.5, 2 ** 31, 1e100, Number.NaN, "1000", null]) {
      expect(() => checkKeepAliveDelay(bad, "d")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
  });

  it("error messages can show any value, even one String() throws on", () => {
    expect(show(Object.create(null))).toBe("an object");
    expect(show(Symbol("s"))).toBe("Symbol(s)");
    expect(show("x")).toBe('"x"');
    expect(show(1n)).toBe("1");
    expect(() => checkPort(Object.create(null))).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});
