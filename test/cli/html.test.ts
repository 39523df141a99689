import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { toHtml } from "../../bin/lib/html.mjs";
import { buildMatrix, summarize, testKey } from "../../bin/lib/results.mjs";
import { needTool } from "../helpers/tools.ts";
import { removeTempDirs, runtime, tempDir } from "./_cli.ts";

/*
 * The HTML report is checked in a real browser (Debian's chromium through playwright-core), but
 * only under Node: it is a tooling test. Under Deno and Bun the same test reads the table's
 * structure from the markup instead, and must find the same thing. Without chromium the browser
 * check is skipped with its install command (test/helpers/tools.ts), or fails in CI.
 */
const root = "/p";

const file = (name: string, tests: [string, string, Record<string, unknown>?][]) => ({
  name: `/p/test/conformance/${name}.test.ts`,
  status: tests.some(([, s]) => s === "failed") ? "failed" : "passed",
  message: "",
  assertionResults: tests.map(([title, status, meta]) => ({
    ancestorTitles: [],
    title,
    fullName: title,
    status,
    meta: meta ?? {},
    failureMessages: status === "failed" ? ["Error: <b>not bold</b>"] : [],
  })),
});
const runs = [
  [
    "node",
    "24.21.0",
    [
      file("tcp", [
        ["echo", "passed"],
        ["reset", "passed"],
      ]),
      file("udp", [["send", "passed"]]),
    ],
  ],
  [
    "deno",
    "2.9.6",
    [
      file("tcp", [
        ["echo", "passed"],
        ["reset", "failed"],
      ]),
      file("udp", [["send", "passed", { unsupported: "UDP is not supported on deno" }]]),
    ],
  ],
  [
    "bun",
    "1.4.5",
    [
      file("tcp", [
        ["echo", "passed"],
        ["reset", "passed"],
      ]),
      file("udp", [["send", "passed"]]),
      file("tls", [["handshake", "skipped"]]),
    ],
  ],
].map(([name, version, testResults]) => ({
  name,
  version,
  label: `${name} ${version}`,
  path: `/bin/${name}`,
  ...summarize(
    { testResults },
    {
      root,
      extraErrors: [],
      notes: new Map([
        [testKey("/p/test/conformance/tls.test.ts", "handshake"), "needs openssl (apt-get install -y openssl)"],
      ]),
    },
  ),
}));
const matrix = buildMatrix(runs);
const chart = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="teal"/></svg>`;
const html = toHtml({
  matrix,
  runs,
  timestamp: "2026-01-01T00:00:00.000Z",
  durationMs: 1234,
  bench: { svg: chart, data: [{ runtime: "node", ratio: 0.93 }] },
});

const expected = {
  columns: ["node 24.21.0", "deno 2.9.6", "bun 1.4.5"],
  groups: ["conformance/tcp", "conformance/tls", "conformance/udp"],
  cellsPerRow: [3, 3, 3],
  failedCells: 1,
  legend: "cells: passed/failed/unsupported/skipped; — not run in that runtime",
  unsupportedCount: '1 unsupported (passed by checking ERR_UNSUPPORTED; not in "passed")',
  summary: "7 passed, 1 failed, 1 skipped",
  failures: 1,
  unsupported: ["deno 2.9.6: conformance/udp › send: UDP is not supported on deno"],
  skipped: ["bun 1.4.5: conformance/tls › handshake: needs openssl (apt-get install -y openssl)"],
  chart: true,
};
type Structure = typeof expected;

/** The items of section#unsupported or #skipped as "runtime: text", from the markup. */
const listed = (page: string, id: string): string[] => {
  const at = page.indexOf(`<section id="${id}">`);
  const section = at === -1 ? "" : page.slice(at, page.indexOf("</section>", at));
  return [...section.matchAll(/<li data-runtime="([^"]*)">(.*?)<\/li>/g)].map(
    (m) => `${m[1]}: ${m[2]!.replace(/<\/?em>/g, "")}`,
  );
};

/** The table's structure read from the markup, without a browser. */
function structureFromMarkup(page: string): Structure {
  const body = page.slice(page.indexOf("<tbody>"), page.indexOf("</tbody>"));
  return {
    columns: [...page.matchAll(/<th scope="col" data-runtime="([^"]*)"/g)].map((m) => m[1]!),
    groups: [...body.matchAll(/<tr data-group="([^"]*)"/g)].map((m) => m[1]!),
    cellsPerRow: body
      .split("</tr>")
      .filter((r) => r.includes("<tr"))
      .map((r) => (r.match(/<td /g) ?? []).length),
    failedCells: (body.match(/<td class="fail"/g) ?? []).length,
    legend: /· (cells: [^<]*)<\/p>/.exec(page)?.[1] ?? "",
    unsupportedCount: (/<p id="unsupported-count">([^<]*)<\/p>/.exec(page)?.[1] ?? "").replace(/&quot;/g, '"'),
    summary: /<p id="summary">([^<]*)<\/p>/.exec(page)?.[1] ?? "",
    failures: (page.slice(page.indexOf('<section id="failures">')).match(/<li>/g) ?? []).length,
    unsupported: listed(page, "unsupported"),
    skipped: listed(page, "skipped"),
    chart: /<img id="bench-chart" alt="benchmark chart" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+">/.test(page),
  };
}

/** The same structure as a real browser renders it. */
async function structureInBrowser(url: string, executablePath: string): Promise<Structure> {
  const { chromium } = await import("playwright-core");
  const context = await chromium.launchPersistentContext(tempDir("unisock-chromium-"), {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(url);
    const s = await page.evaluate(() => {
      const q = (sel: string) => [...document.querySelectorAll(sel)];
      const img = document.querySelector<HTMLImageElement>("#bench-chart");
      return {
        columns: q("#matrix thead th[data-runtime]").map((th) => th.textContent ?? ""),
        groups: q("#matrix tbody tr").map((tr) => tr.querySelector("th")?.textContent ?? ""),
        cellsPerRow: q("#matrix tbody tr").map((tr) => tr.querySelectorAll("td").length),
        failedCells: q("#matrix tbody td.fail").length,
        legend: /· (cells: .*)$/.exec(document.querySelector("h1 + p")?.textContent ?? "")?.[1] ?? "",
        unsupportedCount: document.querySelector("#unsupported-count")?.textContent ?? "",
        summary: document.querySelector("#summary")?.textContent ?? "",
        failures: q("#failures li").length,
        unsupported: q("#unsupported li").map((li) => `${li.getAttribute("data-runtime")}: ${li.textContent}`),
        skipped: q("#skipped li").map((li) => `${li.getAttribute("data-runtime")}: ${li.textContent}`),
        chart: !!img && img.complete && img.naturalWidth === 120,
        // Rendered, not just parsed: the table has a size on screen and the failure's HTML stays text.
        tableHeight: document.querySelector("#matrix")?.getBoundingClientRect().height ?? 0,
        failureText: document.querySelector("#failures pre")?.textContent ?? "",
      };
    });
    expect(errors).toEqual([]);
    expect(s.tableHeight).toBeGreaterThan(50);
    expect(s.failureText).toBe("Error: <b>not bold</b>");
    const { tableHeight: _h, failureText: _f, ...structure } = s;
    return structure;
  } finally {
    await context.close();
  }
}

afterAll(removeTempDirs);

describe("the HTML report", () => {
  it("has a column per runtime and a row per group in its markup", () => {
    expect(structureFromMarkup(html)).toEqual(expected);
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it(runtime === "node"
    ? "renders in headless chromium with a row per group and a column per runtime"
    : "has the structure a browser would render (the browser check runs under Node)", {
    timeout: 90_000,
  }, async (ctx) => {
    const file = join(tempDir(), "matrix.html");
    writeFileSync(file, html);
    const structure =
      runtime === "node"
        ? await structureInBrowser(pathToFileURL(file).href, needTool(ctx, "chromium"))
        : structureFromMarkup(html);
    expect(structure).toEqual(expected);
  });
});
