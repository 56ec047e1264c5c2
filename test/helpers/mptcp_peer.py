#!/usr/bin/env python3
"""MPTCP peer for the kernel tests: a server and a client that open real IPPROTO_MPTCP sockets.

Both print one status line per step on stdout (READY, CONNECTED, ACCEPTED, CLOSED, DONE) and take
commands on stdin ("close", "send N", "info": token and extra-subflow count from MPTCP_INFO), so a test can hold a connection open while it acts on it.
With --quiet the per-connection lines are left out (for bursts, while the reader may be stalled).
Every wait is bounded by --timeout seconds. The server binds --addr (0.0.0.0 or :: for any).
"""
import argparse
import select
import socket
import struct
import sys
import time

IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)
SOL_MPTCP = 284
MPTCP_INFO = 1


def mptcp_info(sock):
    """(token, subflows) from MPTCP_INFO: u8 subflows at 0, u32 token at 12 (struct mptcp_info)."""
    try:
        raw = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 64)
    except OSError:
        return None, None
    if len(raw) < 16:
        return None, None
    return struct.unpack_from("<I", raw, 12)[0], raw[0]


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(args):
    s = socket.socket(family_of(args.addr), socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.addr, args.port))
    s.listen(128)
    say("READY", s.getsockname()[1])
    deadline = time.monotonic() + args.timeout
    conns = []
    accepted = 0
    while time.monotonic() < deadline and (args.count == 0 or accepted < args.count or conns):
        rlist = [s] + conns + [sys.stdin]
        ready, _, _ = select.select(rlist, [], [], max(0.0, min(1.0, deadline - time.monotonic())))
        for r in ready:
            if r is s:
                c, peer = s.accept()
                accepted += 1
                conns.append(c)
                if not args.quiet:
                    say("ACCEPTED", peer[0], peer[1])
            elif r is sys.stdin:
                line = sys.stdin.readline()
                if not line or line.strip() == "close":
                    for c in conns:
                        c.close()
                    s.close()
                    say("DONE", accepted)
                    return 0
            else:
                data = r.recv(65536)
                if not data:
                    r.close()
                    conns.remove(r)
                    if not args.quiet:
                        say("CLOSED")
                elif args.echo:
                    r.sendall(data)
        if args.count and accepted >= args.count and not conns:
            break
    s.close()
    say("DONE", accepted)
    return 0


def client(args):
    deadline = time.monotonic() + args.timeout
    socks = []
    for _ in range(args.count):
        c = socket.socket(family_of(args.addr), socket.SOCK_STREAM, IPPROTO_MPTCP)
        if args.bind:
            c.bind((args.bind, 0))
        c.settimeout(max(0.1, deadline - time.monotonic()))
        c.connect((args.addr, args.port))
        local = c.getsockname()
        if not args.quiet:
            token, _ = mptcp_info(c)
            say("CONNECTED", local[0], local[1], "token=%d" % token if token is not None else "token=?")
        if args.send:
            c.sendall(b"x" * args.send)
        if args.hold:
            socks.append(c)
        else:
            c.close()
    while socks and time.monotonic() < deadline:
        ready, _, _ = select.select([sys.stdin], [], [], max(0.0, min(1.0, deadline - time.monotonic())))
        if not ready:
            continue
        line = sys.stdin.readline()
        cmd = line.split()
        if not cmd or cmd[0] == "close":
            break
        if cmd[0] == "info":
            for c in socks:
                token, subflows = mptcp_info(c)
                say("INFO", "token=%s" % token, "subflows=%s" % subflows)
            continue
        if cmd[0] == "send":
            for c in socks:
                c.sendall(b"y" * int(cmd[1]))
            say("SENT", cmd[1])
    for c in socks:
        c.close()
    say("DONE")
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bind", default="")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--send", type=int, default=0)
    p.add_argument("--hold", action="store_true", help="client: keep connections open until 'close'")
    p.add_argument("--echo", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no per-connection status lines")
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args()
    return serve(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
