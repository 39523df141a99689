"""A UDP receiver that reports the IP TTL each datagram arrived with (IP_RECVTTL), which no runtime's
socket API shows: the datagram TTL tests use it to see that setTTL and multicast.setTTL reach the
packets. Loopback only.

    python3 ttl-probe.py <count> [group]

Binds 127.0.0.1 on a free port (with a multicast group: 0.0.0.0, joined on 127.0.0.1 only), prints
"port N", then one line "ttl=T data=D" per datagram until `count` arrived, and exits. Gives up
after 10 s (exit 2).
"""
import socket
import struct
import sys

# Linux's values, where Python's socket module does not name them.
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
IP_TTL = getattr(socket, "IP_TTL", 2)

count = int(sys.argv[1])
group = sys.argv[2] if len(sys.argv) > 2 else None

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
if group:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 0))
    mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("127.0.0.1"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
else:
    s.bind(("127.0.0.1", 0))
s.settimeout(10)
print(f"port {s.getsockname()[1]}", flush=True)
try:
    for _ in range(count):
        data, ancillary, _flags, _addr = s.recvmsg(2048, socket.CMSG_SPACE(4))
        ttl = next(struct.unpack("i", d[:4])[0] for level, kind, d in ancillary if level == socket.IPPROTO_IP and kind == IP_TTL)
        print(f"ttl={ttl} data={data.decode()}", flush=True)
except socket.timeout:
    sys.exit(2)
