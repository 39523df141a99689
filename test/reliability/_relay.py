#!/usr/bin/env python3
"""
An impaired link between two network namespaces, since this kernel has no netem: two TUN devices
(IFF_TUN | IFF_NO_PI, so each read is one IP packet) and this process copying packets between them,
with a one-way delay, a share of packets dropped at random, a bandwidth cap and a black-hole switch.

  python3 _relay.py TUN_A TUN_B      creates both devices, prints "ready", then relays.

Commands, one per stdin line, each answered "ok": `set delay_ms=N loss=F rate_kbit=N blackhole=0|1`
(any subset). The relay exits when stdin closes, so it never outlives the test that started it, and
the devices vanish with it. Packets are held in a bounded FIFO per direction (a tail-drop queue, as
a router's), so a cap on bandwidth makes a queue, not unbounded memory.
"""
import collections, fcntl, os, random, select, struct, sys, time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
QUEUE_PACKETS = 200


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    a, b = open_tun(sys.argv[1]), open_tun(sys.argv[2])
    conf = {"delay_ms": 0.0, "loss": 0.0, "rate_kbit": 0.0, "blackhole": 0.0}
    stats = {"relayed": 0, "dropped": 0}
    # per direction: (destination fd, queue of (due time, packet), time the link is free again)
    dirs = {a: [b, collections.deque(), 0.0], b: [a, collections.deque(), 0.0]}
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b""
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        due = [q[0][0] for _, q, _ in dirs.values() if q]
        timeout = max(0.0, min(due) - now) if due else None
        ready, _, _ = select.select([a, b, stdin], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            if fd == stdin:
                chunk = os.read(stdin, 4096)
                if not chunk:
                    print(f"exit relayed={stats['relayed']} dropped={stats['dropped']}", file=sys.stderr)
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    words = line.decode().split()
                    if words[:1] == ["set"]:
                        for kv in words[1:]:
                            k, v = kv.split("=")
                            conf[k] = float(v)
                    elif words[:1] == ["stats"]:
                        print(f"stats relayed={stats['relayed']} dropped={stats['dropped']}", flush=True)
                        continue
                    print("ok", flush=True)
                continue
            entry = dirs[fd]
            for _ in range(64):
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if conf["blackhole"] or random.random() < conf["loss"] or len(entry[1]) >= QUEUE_PACKETS:
                    stats["dropped"] += 1
                    continue
                leave = now
                if conf["rate_kbit"]:
                    leave = max(now, entry[2]) + len(pkt) * 8 / (conf["rate_kbit"] * 1000)
                    entry[2] = leave
                entry[1].append((leave + conf["delay_ms"] / 1000, pkt))
        for dst, q, _ in dirs.values():
            while q and q[0][0] <= now:
                _, pkt = q.popleft()
                if conf["blackhole"]:
                    stats["dropped"] += 1
                    continue
                try:
                    os.write(dst, pkt)
                    stats["relayed"] += 1
                except OSError:
                    stats["dropped"] += 1


if __name__ == "__main__":
    main()
