// A peer that nobody here wrote the socket code for: plain Node, run as a child process by the
// conformance tests in every runtime. `listen-reset`: accept one connection, wait for its first
// bytes, then reset it (RST). `listen-read`: accept one connection and read all it sends (the
// test kills the process). `connect-reset PORT`: connect to PORT, reset once the server has
// written. Prints its port (the listener's, or its own end's) on stdout.
import net from "node:net";

const mode = process.argv[2];
if (mode === "listen-reset") {
  const server = net.createServer((sock) => {
    sock.once("data", () => {
      sock.resetAndDestroy();
      server.close();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${server.address().port}\n`);
  });
  setTimeout(() => process.exit(2), 20_000).unref();
} else if (mode === "listen-read") {
  // Accept one connection and read everything it sends, until the test kills this process.
  const server = net.createServer((sock) => {
    sock.on("data", () => {});
    server.close();
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${server.address().port}\n`);
  });
  setTimeout(() => process.exit(2), 20_000).unref();
} else if (mode === "connect-reset") {
  // Connect to the port given after the mode, print our own port, reset once the server writes.
  const sock = net.connect(Number(process.argv[3]), "127.0.0.1", () => {
    process.stdout.write(`${sock.localPort}\n`);
  });
  sock.once("data", () => {
    sock.resetAndDestroy();
    setTimeout(() => process.exit(0), 100);
  });
  sock.on("error", () => process.exit(3));
  setTimeout(() => process.exit(2), 20_000).unref();
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(1);
}
