/**
 * examples/chat-server.ts under the runtime running this suite. Clients: unisock in this process
 * (reading with LineReader) and socat as a listener nobody here wrote.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, LineReader, type Socket } from "unisock";
import { Child, currentRuntime as rt, killChildren, startServer, tool } from "./_children.ts";

/** A chat client in this process: every line it receives, in order, with bounded waits. */
class ChatClient {
  readonly socket: Socket;
  readonly lines: string[] = [];
  ended = false;
  #wake: (() => void) | null = null;

  constructor(port: number) {
    const socket = connect({ hostname: "127.0.0.1", port });
    this.socket = socket;
    void (async () => {
      try {
        for await (const line of new LineReader(socket)) {
          this.lines.push(new TextDecoder().decode(line));
          this.#wake?.();
        }
      } catch {
        // the server dropped us: counts as the end
      }
      this.ended = true;
      this.#wake?.();
    })();
  }

  /** The first line matching `re`, waiting at most `ms` for it. */
  async line(re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const l of this.lines) {
        const m = re.exec(l);
        if (m) return m;
      }
      if (this.ended) throw new Error(`connection ended without a line ${re}; got ${JSON.stringify(this.lines)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line ${re} within ${ms} ms; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits (bounded) for the server to close the connection. */
  async end(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`still connected after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async name(): Promise<string> {
    return (await this.line(/^\* you are (guest\d+)$/))[1]!;
  }
}

describe("examples/chat-server.ts", () => {
  let port: number;
  let server: Child;
  const clients: ChatClient[] = [];

  beforeEach(async () => {
    ({ child: server, port } = await startServer(rt, "examples/chat-server.ts"));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.socket.close()));
    await killChildren();
  });

  const join = (): ChatClient => {
    const c = new ChatClient(port);
    clients.push(c);
    return c;
  };

  it("relays each line to every other client, and never back to its sender", async (ctx) => {
    const socat = tool(ctx, "socat");
    const a = join();
    const nameA = await a.name();
    // socat, only listening (-u: from the connection to stdout).
    const watcher = new Child("socat", socat, ["-u", `TCP:127.0.0.1:${port}`, "-"]);
    await watcher.waitFor(/you are guest\d+\n/);
    const b = join();
    const nameB = await b.name();
    await a.line(new RegExp(`^\\* ${nameB} joined$`));

    await a.socket.write("hello everyone\n");
    await b.line(new RegExp(`^${nameA}: hello everyone$`));
    await watcher.waitFor(new RegExp(`${nameA}: hello everyone\\n`));

    // A line in pieces, with a CRLF ending; then two lines in one write.
    await b.socket.write("spl");
    await new Promise((r) => setTimeout(r, 50));
    await b.socket.write("it line\r\n");
    await b.socket.write("one\ntwo\n");
    await a.line(new RegExp(`^${nameB}: two$`));
    const fromB = a.lines.filter((l) => l.startsWith(`${nameB}:`));
    expect(fromB).toEqual([`${nameB}: split line`, `${nameB}: one`, `${nameB}: two`]);
    expect(
      a.lines.some((l) => l.startsWith(`${nameA}:`)),
      JSON.stringify(a.lines),
    ).toBe(false);
    expect(
      b.lines.some((l) => l.startsWith(`${nameB}:`)),
      JSON.stringify(b.lines),
    ).toBe(false);

    await b.socket.close();
    await a.line(new RegExp(`^\\* ${nameB} left$`));
    await watcher.waitFor(new RegExp(`\\* ${nameB} left\\n`));
  });

  it("drops a client whose line is over the limit, and tells the others", async () => {
    const a = join();
    const nameA = await a.name();
    const b = join();
    await b.name();
    await a.socket.write(`${"x".repeat(5000)}\n`);
    await a.end();
    await b.line(new RegExp(`^\\* ${nameA} left$`));
    expect(b.lines.some((l) => l.includes("xxxx"))).toBe(false);
    expect(server.stderr).toContain("EMSGSIZE");
  });
});
