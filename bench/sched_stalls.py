#!/usr/bin/env python3
"""Who waited long, on what, in a scheduler trace of `bench/load.py --sched DIR`.

    bench/sched_stalls.py DIR/get_request_8.data [--min-ms 50]

Runs `perf sched timehist -g --state` on the trace and prints every time a thread of any
process (the service, PostgreSQL's backends, wrk) was off its core for at least --min-ms
before running again ("slept"), with the state and the kernel stack it went to sleep in
(its previous switch-out), and every time a thread that was ready waited that long for a
core ("queued"). Sorted by the time the wait ended: a stall of the service shows which
threads waited together and on what (a futex: a lock in the process; epoll or a socket
read: nothing came; D and io_schedule: the disk; a long queue: the cores were busy).
"""

import argparse
import re
import subprocess
import sys

LINE = re.compile(r"^\s*(\d+\.\d+)\s+\[(\d+)\]\s+(.+?)\[(\d+)(?:/(\d+))?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s*(.*)$")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--min-ms", type=float, default=50.0)
    ap.add_argument("--comm", default="actix|tokio|jembatan|postgres|wrk",
                    help="only threads whose name matches this regular expression (default: the service's, "
                         "PostgreSQL's and wrk's; the machine's idle daemons sleep long by design)")
    args = ap.parse_args()
    out = subprocess.run(["perf", "sched", "timehist", "-i", args.data, "-g", "--state"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    last_out = {}  # tid -> (state, stack) of its latest switch-out
    found = []
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        t, cpu, name, tid, pid, wait, delay, run, state, stack = m.groups()
        t, wait, delay = float(t), float(wait), float(delay)
        if tid == "0" or not re.search(args.comm, name):  # the idle task, or not ours
            continue
        if wait >= args.min_ms:
            slept_state, slept_stack = last_out.get(tid, ("?", "(before the trace)"))
            found.append((t - float(run) / 1000 - delay / 1000, "slept", name.strip(), tid, pid or tid, wait,
                          slept_state, slept_stack))
        if delay >= args.min_ms:
            found.append((t - float(run) / 1000, "queued", name.strip(), tid, pid or tid, delay, "R", ""))
        last_out[tid] = (state, stack.strip())
    for end, kind, name, tid, pid, ms, state, stack in sorted(found):
        print(f"{end:.3f} {kind:6} {ms:8.1f} ms  {name}[{tid}/{pid}]  {state}  {stack[:160]}")
    if not found:
        print(f"no wait of {args.min_ms} ms or more")


if __name__ == "__main__":
    main()
