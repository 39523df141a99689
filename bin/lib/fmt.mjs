// @ts-check
/* Small formatting helpers the text, HTML and JUnit outputs share. */

/**
 * Text made safe inside XML and HTML, in elements and in double-quoted attributes. Control
 * characters other than tab, LF and CR go: XML 1.0 forbids them even escaped.
 * @param {unknown} s
 */
export const esc = (s) =>
  String(s ?? "")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

/**
 * Milliseconds as seconds, `digits` after the point.
 * @param {number | undefined} ms
 */
export const secs = (ms, digits = 1) => ((ms ?? 0) / 1000).toFixed(digits);
