// @ts-check
/*
 * Live progress on stderr. On a terminal: one line rewritten in place per running runtime.
 * Elsewhere (CI, pipes, CI=true): plain lines, one per finished file and per finished runtime.
 */
/**
 * @import { ProgressEvent } from "./progress-reporter.mjs"
 * @import { Counts } from "./results.mjs"
 *
 * @typedef {{
 *   files: number, filesDone: number, tests: number, passed: number, failed: number,
 *   filesPassed: number, filesFailed: number, started: number, file: string,
 * }} RuntimeProgress  a running runtime's line
 */
import { secs } from "./fmt.mjs";
import { countsText, fileGroup } from "./results.mjs";

const SPIN = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Progress {
  /** @param {{ stream: NodeJS.WriteStream, live: boolean, root: string }} opts */
  constructor({ stream, live, root }) {
    this.stream = stream;
    this.live = live;
    this.root = root;
    /** @type {Map<string, RuntimeProgress>} by column label */
    this.states = new Map();
    this.drawn = 0; // lines currently drawn by the live display
    this.frame = 0;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
  }

  /**
   * @param {NodeJS.WriteStream} stream
   * @param {string} root
   */
  static forStream(stream, root) {
    const ci = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";
    return new Progress({ stream, live: !!stream.isTTY && !ci, root });
  }

  /**
   * Print a line that stays (above the live lines, if any).
   * @param {string} line
   */
  note(line) {
    this.clear();
    this.stream.write(`${line}\n`);
    this.draw();
  }

  /** @param {string} label */
  start(label) {
    this.states.set(label, {
      files: 0,
      filesDone: 0,
      tests: 0,
      passed: 0,
      failed: 0,
      // vitest reports test results in batches: finished files' counts keep the display honest.
      filesPassed: 0,
      filesFailed: 0,
      started: Date.now(),
      file: "",
    });
    if (this.live) {
      if (!this.timer) this.timer = setInterval(() => this.draw(), 120);
      this.timer.unref?.();
      this.draw();
    } else {
      this.stream.write(`[${label}] started\n`);
    }
  }

  /**
   * @param {string} label
   * @param {ProgressEvent} ev
   */
  event(label, ev) {
    const s = this.states.get(label);
    if (!s) return;
    switch (ev.e) {
      case "start":
        s.files = ev.files;
        break;
      case "collected":
        s.tests += ev.tests;
        s.file = fileGroup(ev.file, this.root);
        break;
      case "test":
        if (ev.state === "passed") s.passed++;
        else if (ev.state === "failed") s.failed++;
        s.file = fileGroup(ev.file, this.root);
        break;
      case "file":
        s.filesDone++;
        s.filesPassed += ev.passed;
        s.filesFailed += ev.failed + (ev.errors?.length ?? 0);
        if (!this.live) {
          const errs = ev.errors?.length ? `, ${ev.errors.length} file error${ev.errors.length > 1 ? "s" : ""}` : "";
          const mark = ev.failed || ev.errors?.length || ev.state === "failed" ? "✗" : "✓";
          this.stream.write(
            `[${label}] ${mark} ${fileGroup(ev.file, this.root)}: ${countsText(ev)}${errs} (${s.filesDone}/${s.files || "?"} files)\n`,
          );
        }
        break;
    }
  }

  /**
   * @param {string} label
   * @param {Counts} counts
   * @param {number} durationMs
   */
  end(label, counts, durationMs) {
    this.states.delete(label);
    const mark = counts.failed ? "✗" : "✓";
    const summary = `${countsText(counts)} in ${secs(durationMs)} s`;
    if (this.live) this.note(`${mark} ${label}: ${summary}`);
    else this.stream.write(`[${label}] ${mark} done: ${summary}\n`);
    if (this.states.size === 0) this.stop();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  clear() {
    if (!this.live || this.drawn === 0) return;
    // Up to the first live line, then erase to the end of the screen.
    this.stream.write(`\r${this.drawn > 1 ? `\u001b[${this.drawn - 1}A` : ""}\u001b[0J`);
    this.drawn = 0;
  }

  draw() {
    if (!this.live) return;
    this.clear();
    if (this.states.size === 0) return;
    const spin = SPIN[this.frame++ % SPIN.length];
    const width = Math.max(40, (this.stream.columns ?? 100) - 1);
    const out = [];
    for (const [label, s] of this.states) {
      const files = s.files ? `${s.filesDone}/${s.files} files` : "starting";
      const passedN = Math.max(s.passed, s.filesPassed);
      const failedN = Math.max(s.failed, s.filesFailed);
      const failed = failedN ? `, ${failedN} failed` : "";
      const line = `${spin} ${label}  ${files}  ${passedN} passed${failed}  ${secs(Date.now() - s.started)} s  ${s.file}`;
      out.push(line.length > width ? `${line.slice(0, width - 1)}…` : line);
    }
    this.stream.write(out.join("\n"));
    this.drawn = out.length;
  }
}
