# pyroute2 side of the benchmark: the same request/response phases through Debian's python3-pyroute2
# (pyroute2.netlink.generic.mptcp.MPTCP), one JSON object of per-op latencies (ns) on stdout.
import json
import sys
import time

from pyroute2.netlink.generic.mptcp import MPTCP

SIGNAL = 1


def main() -> None:
    n_add, n_dump, n_lim = (int(x) for x in sys.argv[1:4])
    clock = time.perf_counter_ns
    m = MPTCP()
    add, delete, dump, lim = [], [], [], []
    try:
        m.endpoint('flush')
        done = 0
        while done < n_add:
            k = min(8, n_add - done)
            for i in range(1, k + 1):
                t = clock()
                m.endpoint('add', addr=f'192.0.2.{i}', id=i, flags=SIGNAL)
                add.append(clock() - t)
            if len(m.endpoint('show')) != k:
                raise SystemExit('pyroute2: dump after adds has the wrong size')
            for i in range(1, k + 1):
                t = clock()
                m.endpoint('del', id=i)
                delete.append(clock() - t)
            done += k
        for i in range(1, 9):
            m.endpoint('add', addr=f'192.0.2.{i}', id=i, flags=SIGNAL)
        for _ in range(n_dump):
            t = clock()
            got = m.endpoint('show')
            dump.append(clock() - t)
            if len(got) != 8:
                raise SystemExit(f'pyroute2: full dump returned {len(got)} entries')
        m.endpoint('flush')
        for _ in range(n_lim):
            t = clock()
            m.limits('show')
            lim.append(clock() - t)
    finally:
        m.close()
    json.dump({'add': add, 'delete': delete, 'dump': dump, 'limits': lim}, sys.stdout)


if __name__ == '__main__':
    main()
