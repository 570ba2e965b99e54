#!/usr/bin/env python3
"""Jembatan benchmark: start-to-ready time, idle memory, and /health/ready latency while
50 clients sign in at once. Standard library + `wrk`; traffic only to 127.0.0.1.

    CARGO_TARGET_DIR=/tmp/jb-release cargo build --release -p jembatan
    bench/run.py --bin /tmp/jb-release/release/jembatan

Prints everything it measured as JSON (docs/benchmarks.md is written from it). Not a
test: nothing here fails on a slow machine.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


class Server:
    def __init__(self, binary, workdir, port, env_extra, nice=0):
        self.binary, self.workdir, self.port, self.nice = binary, workdir, port, nice
        self.base = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ)
        self.env.update(env_extra)
        self.proc = None

    def start(self):
        """Starts the server; returns seconds from spawn to the first 200 of /health/ready."""
        log = open(os.path.join(self.workdir, "server.log"), "ab")
        t0 = time.perf_counter()
        cmd = [self.binary, "serve"]
        if self.nice:
            cmd = ["nice", "-n", str(self.nice), *cmd]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log, cwd=self.workdir)
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"the server exited with {self.proc.returncode}; see {self.workdir}/server.log")
            if get(self.base + "/health/ready", timeout=0.5) == 200:
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > 60:
                sys.exit("the server did not become ready within 60 s")
            time.sleep(0.002)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=40)


def wrk(args, env=None):
    out = subprocess.run(["wrk", *args], capture_output=True, text=True, env=env, check=True).stdout
    return out


def parse_wrk(out):
    """Requests/s, non-2xx count and the latency percentiles (ms) from `wrk --latency`."""
    def ms(value, unit):
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": total, "non_2xx": int(non2xx.group(1)) if non2xx else 0, "pct": pct}


def paced_probe(port, seconds, interval=0.01):
    """GET /health/ready every `interval` s on one keep-alive connection, as a load balancer
    would; returns latency percentiles in ms. Unlike wrk's closed loop, the probe itself
    does not load the machine."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lat, errors = [], 0
    end = time.perf_counter() + seconds
    next_at = time.perf_counter()
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        conn.request("GET", "/health/ready")
        r = conn.getresponse()
        r.read()
        lat.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            errors += 1
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    conn.close()
    lat.sort()

    def q(p):
        return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 3)

    return {"requests": len(lat), "non_200": errors, "pct": {"50": q(50), "90": q(90), "99": q(99), "max": round(lat[-1], 3)}}


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
        if m:
            cpu = m.group(1).strip()
    with open("/proc/meminfo") as f:
        mem_kib = int(re.search(r"^MemTotal:\s+(\d+)", f.read(), re.M).group(1))
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_before": os.getloadavg(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("JEMBATAN_BIN", "/tmp/jb-release/release/jembatan"))
    ap.add_argument("--clients", type=int, default=50, help="concurrent sign-in clients (default 50)")
    ap.add_argument("--duration", type=int, default=30, help="seconds of load (default 30)")
    ap.add_argument("--starts", type=int, default=10, help="restarts timed for start-to-ready (default 10)")
    ap.add_argument("--database-url", help="default: a SQLite file in a temp folder")
    ap.add_argument(
        "--nice", type=int, default=0,
        help="run the server with this niceness; a negative one (root) shields it from other work on a shared machine",
    )
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    work = tempfile.mkdtemp(prefix="jembatan-bench-")
    port = free_port()
    user, password = "bench.admin", "bench-" + secrets.token_urlsafe(18)
    env = {
        "JEMBATAN_DATABASE_URL": args.database_url or f"sqlite://{work}/jembatan.db?mode=rwc",
        "JEMBATAN_LISTEN": f"127.0.0.1:{port}",
        "JEMBATAN_STORAGE_DIR": f"{work}/documents",
        "JEMBATAN_JWT_SECRET": secrets.token_urlsafe(48),
        "JEMBATAN_ADMIN_USERNAME": user,
        "JEMBATAN_ADMIN_PASSWORD": password,
        # Only failed sign-ins count towards the throttle; these all succeed. Raised anyway
        # so that nothing but the service's own speed is measured.
        "JEMBATAN_LOGIN_FAILURES_PER_WINDOW": "1000000",
        # Request logging off: the service is measured, not the terminal.
        "RUST_LOG": "warn",
    }
    result = {"machine": machine(), "binary": args.bin, "clients": args.clients, "duration_s": args.duration}
    result["nice"] = args.nice
    server = Server(args.bin, work, port, env, nice=args.nice)

    # First start: creates the database, migrates, creates the admin.
    result["first_start_s"] = server.start()
    server.stop()

    # (c) start-to-ready on the existing database.
    starts = []
    for _ in range(args.starts):
        starts.append(server.start())
        server.stop()
    result["start_to_ready_ms"] = {
        "median": statistics.median(starts) * 1000,
        "max": max(starts) * 1000,
        "all": [round(s * 1000, 1) for s in starts],
    }

    # (b) idle RSS: started, ready, then left alone for 5 s.
    server.start()
    time.sleep(5)
    result["idle_rss_mib"] = server.rss_kib() / 1024

    base = server.base
    # Baselines: /health/ready alone, paced (100/s) and as fast as one connection goes.
    result["ready_alone_paced"] = paced_probe(port, min(args.duration, 10))
    result["ready_alone"] = parse_wrk(wrk(["-t1", "-c1", f"-d{min(args.duration, 10)}s", "--latency", f"{base}/health/ready"]))

    # (a) /health/ready while `clients` connections sign in back to back.
    wrk_env = dict(os.environ, BENCH_USER=user, BENCH_PASSWORD=password)
    login = subprocess.Popen(
        ["wrk", "-t2", f"-c{args.clients}", f"-d{args.duration + 4}s", "--timeout", "30s", "--latency",
         "-s", os.path.join(HERE, "login.lua"), base],
        stdout=subprocess.PIPE, text=True, env=wrk_env,
    )
    time.sleep(2)  # let the sign-in load build up
    half = args.duration // 2
    result["ready_under_login_load_paced"] = paced_probe(port, half)
    probe = wrk(["-t1", "-c1", f"-d{args.duration - half}s", "--latency", f"{base}/health/ready"])
    login_out, _ = login.communicate(timeout=args.duration + 60)
    result["ready_under_login_load"] = parse_wrk(probe)
    result["logins"] = parse_wrk(login_out)
    result["rss_after_load_mib"] = server.rss_kib() / 1024
    server.stop()
    shutil.rmtree(work, ignore_errors=True)

    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
