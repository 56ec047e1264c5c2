# Load generator of the event-storm phase: real MPTCP connections (IPPROTO_MPTCP). `server PORT`
# accepts and echoes; `client DST PORT COUNT WORKERS` opens COUNT connections, each waits for its
# extra subflow (MPTCP_INFO subflows >= 1, created by the kernel PM) and closes; JSON result on stdout.
# `burst DST PORT COUNT` starts COUNT connections at once and closes each once joined.
# `hold DST PORT COUNT` opens COUNT connections, waits (bounded) for their extra subflows, prints
# `held N J` (connections, joined) and keeps them open until stdin closes.
import json
import resource
import selectors
import socket
import sys
import threading
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
SUBFLOW_WAIT_S = 2.0


def more_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (16384, 16384))


def server(port: int) -> None:
    more_files()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    print('ready', flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, 'c')
            else:
                c = key.fileobj
                try:
                    data = c.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b''
                if data:
                    try:
                        c.send(data)
                    except OSError:
                        pass
                else:
                    sel.unregister(c)
                    c.close()


def subflows(s: socket.socket) -> int:
    try:
        return s.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)[0]
    except OSError:
        return -1


def client(dst: str, port: int, count: int, workers: int) -> None:
    lock = threading.Lock()
    state = {'next': 0, 'ok': 0, 'joined': 0, 'failed': 0}

    def work() -> None:
        while True:
            with lock:
                if state['next'] >= count:
                    return
                state['next'] += 1
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
                s.settimeout(5)
                s.connect((dst, port))
                s.sendall(b'x')
                s.recv(1)
                deadline = time.monotonic() + SUBFLOW_WAIT_S
                joined = False
                while time.monotonic() < deadline:
                    if subflows(s) >= 1:
                        joined = True
                        break
                    time.sleep(0.001)
                s.close()
                with lock:
                    state['ok'] += 1
                    state['joined'] += joined
            except OSError:
                with lock:
                    state['failed'] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state['seconds'] = time.monotonic() - t0
    del state['next']
    json.dump(state, sys.stdout)


def burst(dst: str, port: int, count: int) -> None:
    """COUNT connections started at once (non-blocking connects), each closed once joined (bounded)."""
    more_files()
    t0 = time.monotonic()
    socks = []
    failed = 0
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        s.setblocking(False)
        try:
            s.connect((dst, port))
        except BlockingIOError:
            pass
        except OSError:
            failed += 1
            s.close()
            continue
        socks.append(s)
    open_ = list(socks)
    sent = set()
    joined = 0
    deadline = time.monotonic() + 10 + SUBFLOW_WAIT_S
    while open_ and time.monotonic() < deadline:
        rest = []
        for s in open_:
            if s not in sent:
                # A byte of data completes the MPTCP handshake (the client's `established`).
                try:
                    s.send(b'x')
                    sent.add(s)
                except OSError:
                    pass
            if subflows(s) >= 1:
                joined += 1
                s.close()
            else:
                rest.append(s)
        open_ = rest
        time.sleep(0.002)
    for s in open_:
        s.close()
    json.dump({'ok': len(socks), 'joined': joined, 'failed': failed, 'seconds': time.monotonic() - t0}, sys.stdout)


def hold(dst: str, port: int, count: int) -> None:
    more_files()
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        s.settimeout(5)
        s.connect((dst, port))
        s.sendall(b'x')
        s.recv(1)
        socks.append(s)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(subflows(s) < 1 for s in socks):
        time.sleep(0.05)
    print('held', len(socks), sum(1 for s in socks if subflows(s) >= 1), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == '__main__':
    if sys.argv[1] == 'hold':
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == 'burst':
        burst(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == 'server':
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
