#!/usr/bin/env python3
"""Jembatan load benchmark on PostgreSQL: transitions/s, GET /requests/{id}, GET /tasks and
a filtered list at 1, 8 and 32 concurrent clients, side by side with the physical ceiling
(pgbench replaying the SQL of one transition), and list/worklist latency at 10 000 and at
1 000 000 requests. Standard library + wrk + psql + pgbench; traffic to 127.0.0.1 only.

    CARGO_TARGET_DIR=/tmp/jb-release cargo build --release -p jembatan
    apt-get install -y wrk                       # pgbench and psql: postgresql-client
    bench/load.py --bin /tmp/jb-release/release/jembatan \\
                  --postgres postgres://postgres@127.0.0.1:5432 > load.json

What it does (about 6–10 minutes, most of it seeding 1M rows):
 1. creates a fresh database jb_bench_<random> and starts `jembatan serve` on it
    (bootstrap admin, random JWT secret, RUST_LOG=warn, documents in a temp folder);
 2. over the API: agencies, divisions and users for every role; one request walked
    create → upload request_letter → submit → disposition (a check that the flow works);
 3. seeds the newest 10 000 requests with bench/seed.sql (several agencies, statuses and
    steps), then measures
      - the scale set (1 client): the filtered list as an agency applicant and as the
        office's technical lead, and the worklist (GET /tasks) of the head of division, of
        an applicant and of a technical staff member (on integration teams);
      - at 1, 8 and 32 clients: GET /requests/{id} (random ids), GET /tasks, the filtered
        list, each with p50/p99/throughput and the server's RSS after the phase;
 4. seeds the older 990 000 requests and measures the scale set and the GET phases
    again (results suffixed _1m), with EXPLAIN (ANALYZE, BUFFERS) of the list and
    worklist queries at both sizes;
 5. seeds a pool of requests awaiting `disposition` and, at 1, 8 and 32 clients, has the
    head of division issue dispositions (each connection its own requests: a real state
    change with its audit event), then runs pgbench with bench/transition.pgbench (the
    same statements, same transaction) at the same client count against the same
    database; ratio = transitions/s ÷ pgbench transactions/s. Before these phases it
    waits (--wait-quiet, default 300 s) for the load average to fall below 1.0, and
    records the load it saw; then 10 s of dispositions that are not measured (the audit
    log and the steps get a history to plan on), and before each measured phase ANALYZE
    and a wait for the machine to fall idle; each phase records the service's
    pool-wait histogram;
 6. stops the server and drops the database (--keep-db keeps it).

`--transitions-only` runs steps 1, 2 (with the newest 10 000 requests seeded), 5 and 6
(about 3 minutes).

Prints one JSON document; docs/benchmarks.md is written from it. Not a test: nothing here
fails on a slow machine. `--capture` instead prints the SQL one disposition issues (from
the PostgreSQL log, with log_statement=all set on a throwaway database), which is how
bench/transition.pgbench was made.
"""

import argparse
import json
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PG_LOG = "/var/log/postgresql/postgresql-15-main.log"
TOTAL = 1_000_000  # request n of bench/seed.sql runs 1..TOTAL (oldest first)
SMALL = 10_000

AGENCIES = [
    ("DINKES", "Dinas Kesehatan"),
    ("DISPENDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah"),
    ("DPMPTSP", "Dinas Penanaman Modal dan PTSP"),
    ("DINSOS", "Dinas Sosial"),
    ("DISDIKPORA", "Dinas Pendidikan, Pemuda dan Olahraga"),
    ("BPKAD", "Badan Pengelolaan Keuangan dan Aset Daerah"),
    ("DPUPR", "Dinas Pekerjaan Umum dan Penataan Ruang"),
]
DIVISIONS = [("APTIKA", "Bidang Aplikasi Informatika"), ("IKP", "Bidang Informasi dan Komunikasi Publik")]
STAFF = 6  # technical staff who can be named on integration teams

DISPOSITION = {"instructions": ["tindak_lanjuti", "koordinasikan"], "note": "Mohon segera ditindaklanjuti"}


# ---------------------------------------------------------------- small helpers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql=None, file=None, variables=None, quiet=True):
    """Runs SQL through psql (ON_ERROR_STOP); returns stdout (unaligned, tuples only)."""
    cmd = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url]
    for k, v in (variables or {}).items():
        cmd += ["-v", f"{k}={v}"]
    cmd += ["-f", file] if file else ["-c", sql]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr.strip()}\n{sql or file}")
    return r.stdout


def pct(values, p):
    """The p-th percentile (nearest rank) of a list of numbers."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def sched_autogroup():
    """The kernel's session groups (1: on). On, PostgreSQL's backends share one group's
    weight against the service's and the load generator's group, and a backend woken on a
    core where its group has little weight can wait 100 ms and more for it: the rare stalls
    of sessions 9–13 (docs/benchmarks.md, session 14). Off for figures worth comparing:
    `sysctl -w kernel.sched_autogroup_enabled=0`."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return int(f.read())
    except OSError:
        return None


def machine():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
    with open("/proc/meminfo") as f:
        mem_kib = int(re.search(r"^MemTotal:\s+(\d+)", f.read(), re.M).group(1))
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--", "api", "entity", "migration"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "cpu": m.group(1).strip() if m else "unknown",
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "sched_autogroup": sched_autogroup(),
        "commit": commit.stdout.strip() + (" + uncommitted changes under api/, entity/ or migration/ (check whether --bin was built with them)" if dirty else ""),
    }


# ---------------------------------------------------------------- the service


class Server:
    def __init__(self, binary, workdir, env):
        self.binary, self.workdir = binary, workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, JEMBATAN_LISTEN=f"127.0.0.1:{self.port}", **env)
        self.proc = None

    def start(self):
        log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=log, stderr=log, cwd=self.workdir)
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"the server exited with {self.proc.returncode}; see {self.workdir}/server.log")
            try:
                with urllib.request.urlopen(self.base + "/health/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.time() - t0 > 120:
                sys.exit("the server did not become ready within 120 s")
            time.sleep(0.05)

    def rss_mib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return round(int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024, 1)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=40)


class Api:
    """A tiny JSON client for setting up (urllib; the measuring is done by wrk)."""

    def __init__(self, base):
        self.base = base + "/api/v1"

    def call(self, method, path, token=None, body=None, data=None, content_type=None, expect=(200, 201)):
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if status not in expect:
            sys.exit(f"{method} {path} → {status}: {text[:500]!r}")
        return json.loads(text) if text else None

    def login(self, username, password):
        return self.call("POST", "/auth/login", body={"username": username, "password": password})["access_token"]

    def upload_pdf(self, token, request_id, kind):
        boundary = "bench" + secrets.token_hex(8)
        pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{kind}.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode() + pdf + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        return self.call("POST", f"/requests/{request_id}/documents", token, data=b"".join(parts),
                         content_type=f"multipart/form-data; boundary={boundary}")


def set_up_office(api, admin_token, password):
    """Organizations and users over the API; returns ids and the tokens the phases use."""
    orgs = []  # agencies first: bench/seed.sql relies on that order
    for code, name in AGENCIES:
        orgs.append(api.call("POST", "/organizations", admin_token, {"code": code, "name": name, "kind": "agency"}))
    for code, name in DIVISIONS:
        orgs.append(api.call("POST", "/organizations", admin_token, {"code": code, "name": name, "kind": "division"}))
    aptika = orgs[len(AGENCIES)]["id"]

    def user(username, org_id, role):
        return api.call("POST", "/users", admin_token, {
            "username": username, "full_name": username.replace(".", " ").title(), "password": password,
            "organization_id": org_id, "roles": [role]})

    office = {
        "kabid": user("kabid.aptika", aptika, "head_of_division"),
        "kasi": user("kasi.teknis", aptika, "technical_lead"),
        "kadis": user("kadis", aptika, "head_of_agency"),
    }
    staff = [user(f"teknisi.{i}", aptika, "technical_staff") for i in range(STAFF)]
    applicants = [user("pemohon." + o["code"].lower(), o["id"], "applicant") for o in orgs]
    tokens = {k: api.login(u["username"], password) for k, u in office.items()}
    tokens["applicant"] = api.login(applicants[0]["username"], password)  # DINKES
    tokens["staff"] = api.login(staff[0]["username"], password)
    return orgs, office, staff, applicants, tokens


def walk_one(api, tokens, kasi_id):
    """One request the ordinary way: create, upload the letter, submit, disposition."""
    body = {"title": "Integrasi SIMPUS ke Satu Data", "purpose": "Data kunjungan harian",
            "source_system": "SIMPUS", "target_system": "Satu Data", "data_exchanged": "Kunjungan per puskesmas",
            "letter_number": "400.7/123/406.010/2026", "letter_date": time.strftime("%Y-%m-%d")}
    r = api.call("POST", "/requests", tokens["applicant"], body)
    api.upload_pdf(tokens["applicant"], r["id"], "request_letter")
    api.call("POST", f"/requests/{r['id']}/submit", tokens["applicant"], {})
    done = api.call("POST", f"/requests/{r['id']}/disposition", tokens["kabid"], dict(DISPOSITION, to_user_id=kasi_id))
    assert done["current_step"]["code"] == "follow_up", done
    return r["id"]


# ---------------------------------------------------------------- measuring


def wrk(base, clients, seconds, token, mode, ids, prefix, suffix="", body=None):
    """Runs wrk with bench/wrk_load.lua; returns throughput, p50/p99 (ms) and error counts."""
    threads = min(clients, 2)
    env = dict(os.environ, BENCH_MODE=mode, BENCH_IDS=ids, BENCH_PATH_PREFIX=prefix, BENCH_PATH_SUFFIX=suffix,
               BENCH_TOKEN=token, BENCH_THREADS=str(threads), BENCH_BODY=body or "")
    cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "--latency",
           "-s", os.path.join(HERE, "wrk_load.lua"), base]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    out = r.stdout

    def ms(value, unit):
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    tail = re.search(r"tail: p99.9 ([\d.]+) us, max ([\d.]+) us", out)
    return {
        "clients": clients,
        "per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": round(lat["50"], 2),
        "p99_ms": round(lat["99"], 2),
        "p999_ms": round(float(tail.group(1)) / 1000, 2) if tail else None,
        "max_ms": round(float(tail.group(2)) / 1000, 2) if tail else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        # wrk "corrects" its latencies for coordinated omission before printing them
        # (stats_correct: a request that took n intervals adds n-1 made-up ones), so a few
        # stalls of seconds give a p99 of seconds. Flagged when the p99 is more than the
        # requests themselves could have waited (one at a time per connection):
        # server_over_100ms / server_over_1s, from the service's own histogram, are the truth.
        "p99_from_correction": lat["99"] / 1000 * 0.01 * int(re.search(r"(\d+) requests in", out).group(1))
                               > clients * seconds * 1.05,
        # BENCH_KEEP_RAW=1: wrk's own report, to look at such a phase again.
        "raw": out if os.environ.get("BENCH_KEEP_RAW") else None,
        "socket_errors": errors.group(1) if errors else None,
        "ran_out": "ran out" in r.stderr,
    }


def pgbench(url, clients, seconds, script, pool_first, pool_size, people, logdir):
    """pgbench with the transition script; throughput and p50/p99 from its per-transaction log."""
    for f in os.listdir(logdir):
        os.remove(os.path.join(logdir, f))
    threads = min(clients, 2)
    cmd = ["pgbench", "-n", "-M", "prepared", f"-c{clients}", f"-j{threads}", f"-T{seconds}",
           "-D", f"pool_first={pool_first}", "-D", f"pool_size={pool_size}",
           "-D", f"kabid={people['kabid']}", "-D", f"kasi={people['kasi']}",
           "-l", f"--log-prefix={logdir}/tx", "-f", script, url]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"pgbench failed: {r.stderr}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", r.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
    lat = []
    for f in os.listdir(logdir):
        with open(os.path.join(logdir, f)) as fh:
            lat += [int(line.split()[2]) / 1000 for line in fh]
    return {"clients": clients, "per_s": round(tps, 1), "transactions": len(lat),
            "p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2),
            "failed": int(failed.group(1)) if failed else 0}


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

PROFILE = {"dir": None, "clients": 8, "flat": False}

# --sched DIR: the scheduler's trace of the whole machine during each GET /requests/{id} phase.
SCHED = {"dir": None}

# --login-flood: sign-ins of this account (right password: each one an Argon2id hash).
FLOOD = {"on": False, "user": "kadis", "password": None}


def login_flood(base, seconds):
    """wrk on POST /auth/login at 32 connections (bench/login.lua), in the background."""
    env = dict(os.environ, BENCH_USER=FLOOD["user"], BENCH_PASSWORD=FLOOD["password"])
    return subprocess.Popen(["wrk", "-t1", "-c32", f"-d{seconds}s", "--timeout", "30s", "--latency",
                             "-s", os.path.join(HERE, "login.lua"), base],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


class Profile:
    """With --profile DIR: `perf record` of the server during one phase at --profile-clients
    clients (DWARF unwinding through .eh_frame, so the normal release build will do), then
    a flame graph DIR/<name>.svg and the folded stacks DIR/<name>.folded (inferno:
    `cargo install inferno`). Without --profile it does nothing."""

    def __init__(self, name, pid, clients, seconds):
        self.proc = None
        if not PROFILE["dir"] or clients != PROFILE["clients"]:
            return
        self.name, self.data = name, os.path.join(PROFILE["dir"], f"{name}.perf.data")
        if PROFILE["flat"]:
            # The whole machine, no stacks: where the two cores go (wrk, PostgreSQL, us,
            # the kernel) and each one's hottest functions by their own time.
            what = ["-a", "-F", "999"]
        else:
            what = ["-F", "199", "--call-graph", "dwarf,16384", "-p", str(pid)]
        self.proc = subprocess.Popen(["perf", "record", "-q", *what, "-o", self.data, "--", "sleep", str(seconds)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def finish(self):
        if not self.proc:
            return
        self.proc.wait()
        base = os.path.join(PROFILE["dir"], self.name)
        if PROFILE["flat"]:
            with open(base + ".txt", "w") as f:
                for sort in ("comm", "comm,dso", "comm,sym"):
                    r = subprocess.run(["perf", "report", "-i", self.data, "--stdio", "--no-children", "--sort", sort,
                                        "--percent-limit", "0.08"], capture_output=True, text=True)
                    f.write(f"==== by {sort}\n" + r.stdout)
            os.remove(self.data)
            return
        script = subprocess.run(["perf", "script", "-i", self.data], capture_output=True)
        folded = subprocess.run(["inferno-collapse-perf"], input=script.stdout, capture_output=True)
        with open(base + ".folded", "wb") as f:
            f.write(folded.stdout)
        svg = subprocess.run(["inferno-flamegraph", "--title", self.name], input=folded.stdout, capture_output=True)
        with open(base + ".svg", "wb") as f:
            f.write(svg.stdout)
        os.remove(self.data)


class SchedTrace:
    """With --sched DIR: `perf sched record -a -g` during a phase (every switch and wake-up
    on both cores, with the kernel's stack at each switch), kept as DIR/<name>.data only
    when the service answered a request in over 100 ms, to find who waited on what then
    (`perf sched timehist -i … -g --state`). The tracer costs throughput in that phase."""

    def __init__(self, name, seconds):
        self.proc = None
        if not SCHED["dir"]:
            return
        self.data = os.path.join(SCHED["dir"], f"{name}.data")
        self.proc = subprocess.Popen(["perf", "sched", "record", "-a", "-g", "-o", self.data, "--", "sleep",
                                      str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def finish(self, keep):
        if not self.proc:
            return None
        self.proc.wait()
        if keep:
            return self.data
        os.remove(self.data)
        return None


def cpu_ticks():
    """/proc/stat's first line: user, nice, system, idle, iowait, irq, softirq, steal (all cores)."""
    with open("/proc/stat") as f:
        return list(map(int, f.readline().split()[1:9]))


def machine_busy_ms():
    """CPU time (ms, all cores) the machine spent not idle so far."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = cpu_ticks()
    return (user + nice + system + irq + softirq + steal) * TICK_MS


def process_cpu_ms(pid):
    """User + system CPU (ms) one process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def children_cpu_ms():
    """CPU (ms) of the finished child processes: wrk or pgbench, the load generators."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


class CpuMeter:
    """CPU per call over one phase, split into the service, the load generator, and the
    rest of the machine — PostgreSQL (backends, WAL writer, …) and whatever else ran. The
    cores can afford at most (cores × 1000) ÷ (service + rest) calls per second, however
    the work is scheduled."""

    def __init__(self, server_pid=None):
        self.server_pid = server_pid
        self.busy0, self.client0 = machine_busy_ms(), children_cpu_ms()
        self.server0 = process_cpu_ms(server_pid) if server_pid else 0.0

    def per_call(self, calls):
        busy = machine_busy_ms() - self.busy0
        client = children_cpu_ms() - self.client0
        server = process_cpu_ms(self.server_pid) - self.server0 if self.server_pid else 0.0
        n = max(calls, 1)
        out = {"client_cpu_ms_per_call": round(client / n, 3),
               "postgres_and_rest_cpu_ms_per_call": round((busy - client - server) / n, 3)}
        if self.server_pid:
            out["service_cpu_ms_per_call"] = round(server / n, 3)
        return out


def ids_file(work, name, ids):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("\n".join(ids) + "\n")
    return path


def explain(url, sql):
    """EXPLAIN (ANALYZE, BUFFERS) of one query, as text."""
    return psql(url, "EXPLAIN (ANALYZE, BUFFERS) " + sql)


def scale_set(server, work, tokens, users, url, seconds):
    """The list and worklist, one client each: what must not grow with the table."""
    one = ids_file(work, "none.txt", [""])
    paths = {
        # An agency applicant's view of its own open requests.
        "list_applicant": ("applicant", "/api/v1/requests?status=in_progress&limit=20"),
        # The technical lead: requests in progress waiting at follow_up.
        "list_office": ("kasi", "/api/v1/requests?status=in_progress&current_step=follow_up&limit=20"),
        "tasks_head_of_division": ("kabid", "/api/v1/tasks"),
        "tasks_applicant": ("applicant", "/api/v1/tasks"),
    }
    out = {}
    for name, (who, path) in paths.items():
        out[name] = wrk(server.base, 1, seconds, tokens[who], "get", one, path)
    # The same queries as the service issues them (see api/src/service/requests.rs,
    # `list` and `tasks`: a worklist is one query per kind of work, merged in Rust), for
    # the plans.
    org, kabid, staff = users["applicant_org"], users["kabid"], users["staff"]

    def most_urgent(where):
        return f"SELECT * FROM requests WHERE {where} ORDER BY current_limit_at ASC, id ASC LIMIT 50"

    def team_work(user):
        return most_urgent("status = 'in_progress' AND current_actor = 'team' AND EXISTS (SELECT 1 FROM team_members "
                           f"WHERE team_members.request_id = requests.id AND team_members.user_id = '{user}')")

    plans = {
        "list_applicant": [f"SELECT * FROM requests WHERE organization_id = '{org}' AND status = 'in_progress' "
                           f"ORDER BY id DESC LIMIT 21"],
        "list_office": ["SELECT * FROM requests WHERE status = 'in_progress' AND current_step = 'follow_up' "
                        "ORDER BY id DESC LIMIT 21"],
        "tasks_head_of_division": [most_urgent("status = 'in_progress' AND current_actor = 'role:head_of_division'"),
                                   team_work(kabid)],
        "tasks_applicant": [most_urgent(f"organization_id = '{org}' AND status = '{s}'") for s in ("draft", "returned")]
                           + [team_work(users["applicant"])],
        "tasks_technical_staff": [most_urgent("status = 'in_progress' AND current_actor = 'role:technical_staff'"),
                                  team_work(staff)],
    }
    # A technical staff member's worklist is timed here, one by one: it once took seconds
    # at 1M requests (runs A–D), too slow for wrk's timeout.
    lat, t_end = [], time.time() + seconds
    while not lat or (time.time() < t_end and len(lat) < 2000):
        t0 = time.perf_counter()
        req = urllib.request.Request(server.base + "/api/v1/tasks", headers={"Authorization": f"Bearer {tokens['staff']}"})
        with urllib.request.urlopen(req, timeout=300) as r:
            r.read()
        lat.append((time.perf_counter() - t0) * 1000)
    out["tasks_technical_staff"] = {"clients": 1, "requests": len(lat), "p50_ms": round(pct(lat, 50), 2),
                                    "p99_ms": round(pct(lat, 99), 2), "max_ms": round(max(lat), 2)}
    out["plans"] = {k: "\n".join(explain(url, q) for q in qs) for k, qs in plans.items()}
    out["rows"] = int(psql(url, "SELECT count(*) FROM requests").strip())
    return out


def wait_quiet(limit, log):
    """Waits (at most `limit` s) until the 1-minute load average is below 1.0; returns seconds waited."""
    t0 = time.time()
    while os.getloadavg()[0] >= 1.0 and time.time() - t0 < limit:
        log("waiting for the load average to fall below 1.0")
        time.sleep(15)
    return round(time.time() - t0)


def cpu_busy_fraction(secs):
    """The share of the machine's CPU time that was busy (not idle, not waiting on disk)
    over the next `secs` seconds."""
    before = cpu_ticks()
    time.sleep(secs)
    spent = [a - b for a, b in zip(cpu_ticks(), before)]
    return 1 - (spent[3] + spent[4]) / max(sum(spent), 1)


def wait_idle(limit, log):
    """Waits (at most `limit` s) until the machine has been idle (under 10 % busy) for two
    seconds: the work a phase leaves behind (autovacuum, the audit sequencer catching up,
    a checkpoint) is done before the next phase starts. Returns seconds waited."""
    t0 = time.time()
    while time.time() - t0 < limit:
        if cpu_busy_fraction(2.0) < 0.10:
            break
    waited = round(time.time() - t0)
    if waited >= limit:
        log(f"the machine did not fall idle within {limit} s")
    return waited


def seed(url, first, last, pool=0):
    t0 = time.time()
    psql(url, file=os.path.join(HERE, "seed.sql"),
         variables={"first": first, "last": last, "total": TOTAL, "pool": pool})
    return round(time.time() - t0, 1)


# ---------------------------------------------------------------- capture


def capture(args):
    """Prints the statements one disposition issues, read from the PostgreSQL log."""
    admin_url, dbname = args.postgres, "jb_bench_capture_" + secrets.token_hex(4)
    url = f"{admin_url.rstrip('/')}/{dbname}"
    psql(admin_url + "/postgres", f"CREATE DATABASE {dbname}")
    work = tempfile.mkdtemp(prefix="jembatan-load-")
    password = "bench-" + secrets.token_urlsafe(18)
    server = Server(args.bin, work, env_for(url, work, password))
    try:
        server.start()
        api = Api(server.base)
        admin = api.login("bench.admin", password)
        orgs, office, staff, applicants, tokens = set_up_office(api, admin, password)
        r = api.call("POST", "/requests", tokens["applicant"], {
            "title": "Integrasi SIMPUS", "purpose": "x", "source_system": "SIMPUS", "target_system": "Satu Data",
            "data_exchanged": "x", "letter_number": "1", "letter_date": time.strftime("%Y-%m-%d")})
        api.upload_pdf(tokens["applicant"], r["id"], "request_letter")
        api.call("POST", f"/requests/{r['id']}/submit", tokens["applicant"], {})
        # New sessions only: restart so that the pool's connections log every statement.
        server.stop()
        psql(admin_url + "/postgres", f"ALTER DATABASE {dbname} SET log_statement = 'all'")
        server.start()
        time.sleep(1)
        with open(PG_LOG) as f:
            f.seek(0, 2)
            start = f.tell()
        api.call("POST", f"/requests/{r['id']}/disposition", tokens["kabid"],
                 dict(DISPOSITION, to_user_id=office["kasi"]["id"]))
        time.sleep(1)
        with open(PG_LOG) as f:
            f.seek(start)
            lines = [line.rstrip("\n") for line in f if f"@{dbname} " in line or line.startswith("\t")]
        print("\n".join(lines))
    finally:
        server.stop()
        psql(admin_url + "/postgres", f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def env_for(url, work, password):
    return {
        "JEMBATAN_DATABASE_URL": url,
        "JEMBATAN_STORAGE_DIR": f"{work}/documents",
        "JEMBATAN_JWT_SECRET": secrets.token_urlsafe(48),
        "JEMBATAN_ADMIN_USERNAME": "bench.admin",
        "JEMBATAN_ADMIN_PASSWORD": password,
        # The run takes longer than the default 15-minute token lifetime.
        "JEMBATAN_ACCESS_TOKEN_TTL_SECS": "86400",
        # Request logging off: the service is measured, not the terminal.
        "RUST_LOG": "warn",
        # For server_side(): the service's own request durations, against wrk's.
        "JEMBATAN_METRICS_TOKEN": METRICS_TOKEN,
    }


METRICS_TOKEN = "bench-" + secrets.token_urlsafe(36)


def metrics_text(base):
    """The service's /metrics, read with the run's scraper token."""
    req = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    return urllib.request.urlopen(req, timeout=10).read().decode()


def server_side(base, endpoint):
    """The service's own histogram of `endpoint`'s GET durations (cumulative counts by
    upper bound in seconds), from /metrics: what it spent from the request's arrival to
    its answer's last byte, without the kernel's queues or wrk's own delays."""
    text = metrics_text(base)
    out = {}
    for m in re.finditer(r'^jembatan_http_requests_duration_seconds_bucket\{(.*)\} (\d+)$', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("endpoint") == endpoint and labels.get("method") == "GET" and labels.get("status") == "200":
            out[labels["le"]] = out.get(labels["le"], 0) + int(m.group(2))
    return out


def pool_waits(base):
    """The service's pool-wait histogram and timeout counter, from /metrics: cumulative
    acquires by upper bound in seconds, their count and sum, and acquires that timed out."""
    text = metrics_text(base)
    out = {"buckets": {}}
    for m in re.finditer(r'^jembatan_db_pool_wait_seconds_bucket\{le="([^"]+)"\} (\d+)$', text, re.M):
        out["buckets"][m.group(1)] = int(m.group(2))
    for name, key in (("jembatan_db_pool_wait_seconds_count", "count"), ("jembatan_db_pool_wait_seconds_sum", "sum"),
                      ("jembatan_db_pool_timeouts_total", "timeouts")):
        m = re.search(rf"^{name} ([\d.e+-]+)$", text, re.M)
        out[key] = float(m.group(1)) if m else 0.0
    return out


def pool_waits_between(before, after):
    """What a phase added to the pool-wait histogram: acquires, their mean, how many took
    over 1 ms and over 10 ms, and timeouts."""
    n = after["count"] - before["count"]
    over = lambda le: n - (after["buckets"].get(le, 0) - before["buckets"].get(le, 0))
    return {"acquires": int(n), "mean_ms": round(1000 * (after["sum"] - before["sum"]) / n, 3) if n else None,
            "over_1ms": int(over("0.001")), "over_10ms": int(over("0.01")),
            "timeouts": int(after["timeouts"] - before["timeouts"])}


HICCUP_METER = r"""
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
worst, over, last = 0.0, 0, time.monotonic()
while True:
    time.sleep(0.005)
    now = time.monotonic()
    late = now - last - 0.005
    last = now
    if late > 0.1:
        over += 1
    if late > worst:
        worst = late
        print(f"{worst * 1000:.1f} {over}", flush=True)
    elif late > 0.1:
        print(f"{worst * 1000:.1f} {over}", flush=True)
"""


class Hiccups:
    """One sleeper pinned to each core, waking every 5 ms: how late it woke is time
    that core was not there for anyone (the hypervisor took the vCPU: steal, or the kernel
    held it). 200 wake-ups a second each: a fraction of a per cent of a core. A stall the service's own histogram shows while a sleeper shows the same is
    the machine's, not the service's. Also the steal time /proc/stat counted meanwhile."""

    def __init__(self):
        self.steal0 = self.steal_ms()
        self.procs = [subprocess.Popen([sys.executable, "-c", HICCUP_METER, str(cpu)], stdout=subprocess.PIPE, text=True)
                      for cpu in sorted(os.sched_getaffinity(0))]

    @staticmethod
    def steal_ms():
        return cpu_ticks()[7] * TICK_MS

    def finish(self):
        worst, over = 0.0, 0
        for p in self.procs:
            p.terminate()
            out, _ = p.communicate(timeout=10)
            lines = out.split()
            if lines:
                worst, over = max(worst, float(lines[-2])), over + int(lines[-1])
        return {"machine_stall_max_ms": round(worst, 1), "machine_stalls_over_100ms": over,
                "steal_ms": self.steal_ms() - self.steal0}


def slower_than(before, after, seconds):
    """Requests between two server_side() readings that took longer than `seconds` (a bucket bound)."""
    key = next(k for k in after if k != "+Inf" and abs(float(k) - seconds) < 1e-9)
    total = after["+Inf"] - before.get("+Inf", 0)
    return total - (after[key] - before.get(key, 0))


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("JEMBATAN_BIN", "/tmp/jb-release/release/jembatan"))
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432",
                    help="server URL without a database; jb_bench_<random> is created there and dropped")
    ap.add_argument("--clients", default="1,8,32", help="client counts (default 1,8,32)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per phase (default 10)")
    ap.add_argument("--scale-duration", type=int, default=8, help="seconds per scale-set query (default 8)")
    ap.add_argument("--no-million", action="store_true", help="skip growing to 1 000 000 requests")
    ap.add_argument("--transitions-only", action="store_true",
                    help="only the transition phases and pgbench (no seeding beyond the pool, no GET phases)")
    ap.add_argument("--reads-only", action="store_true",
                    help="the scale set and the GET phases, no transitions (an A/B of a read path)")
    ap.add_argument("--scale-only", action="store_true",
                    help="only the scale set at 10 000 and 1 000 000 requests (no GET or transition phases)")
    ap.add_argument("--no-replay", action="store_true",
                    help="skip replaying bench/transition.pgbench (it is the SQL of a transition before the "
                         "transparency log: compare with ../shared/bench-anchors/ instead)")
    ap.add_argument("--wait-quiet", type=int, default=300,
                    help="before the transition phases, wait up to this many seconds for load < 1.0 (default 300)")
    ap.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    ap.add_argument("--capture", action="store_true", help="print the SQL of one disposition and exit")
    ap.add_argument("--profile", metavar="DIR", help="flame graphs of each phase at --profile-clients clients into DIR "
                                                     "(perf, inferno); the profiler costs throughput in those phases")
    ap.add_argument("--profile-clients", type=int, default=8)
    ap.add_argument("--profile-flat", action="store_true",
                    help="with --profile: sample the whole machine without stacks, write DIR/<phase>.txt "
                         "(CPU by process, library and function) instead of flame graphs")
    ap.add_argument("--sched", metavar="DIR", help="trace the scheduler (perf sched) during each GET /requests/{id} "
                                                   "phase; keep DIR/<phase>.data when a request took over 100 ms")
    ap.add_argument("--login-flood", action="store_true",
                    help="after the GET phases at 8 clients, GET /requests/{id} again under a sign-in flood at 32")
    ap.add_argument("--socket", default="/var/run/postgresql", help="the service connects over this Unix socket "
                                                                      "directory (as pgbench does)")
    ap.add_argument("--socket-user", default="postgres")
    ap.add_argument("--tcp", action="store_true", help="connect the service to --postgres over TCP instead "
                                                       "(TLS if the server offers it)")
    args = ap.parse_args()
    FLOOD["on"] = args.login_flood
    if args.sched:
        os.makedirs(args.sched, exist_ok=True)
        SCHED["dir"] = args.sched
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        PROFILE.update(dir=args.profile, clients=args.profile_clients, flat=args.profile_flat)
    for tool in ("wrk", "psql", "pgbench"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (wrk: apt-get install -y wrk; psql, pgbench: postgresql-client)")
    if args.capture:
        return capture(args)
    clients = [int(c) for c in args.clients.split(",")]
    secs = args.duration

    result = {"machine": machine(), "load_before": os.getloadavg(), "binary": args.bin, "phase_seconds": secs}
    dbname = "jb_bench_" + secrets.token_hex(4)
    admin_url = args.postgres.rstrip("/") + "/postgres"
    url = f"{args.postgres.rstrip('/')}/{dbname}"
    psql(admin_url, f"CREATE DATABASE {dbname}")
    work = tempfile.mkdtemp(prefix="jembatan-load-")
    password = "bench-" + secrets.token_urlsafe(18)
    FLOOD["password"] = password
    # The service reaches PostgreSQL the way the ceiling (pgbench, bench-anchors) does: over
    # the Unix socket, no TCP, no TLS. Over 127.0.0.1 sqlx negotiates TLS with Debian's
    # default server (ssl = on), which cost a quarter of a read's CPU (docs/benchmarks.md).
    service_url = url if args.tcp else f"postgres:///{dbname}?host={args.socket}&user={args.socket_user}"
    server = Server(args.bin, work, env_for(service_url, work, password))
    result["service_database"] = "tcp " + args.postgres if args.tcp else "unix socket " + args.socket
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr)
    try:
        run(args, result, server, url, work, password, clients, secs, log)
    except SystemExit as e:
        result["error"] = str(e)
        raise
    finally:
        server.stop()
        # What the service itself warned of while measured (RUST_LOG=warn: nothing else).
        with open(os.path.join(work, "server.log"), errors="replace") as f:
            result["server_warnings"] = [line.rstrip() for line in f if "WARN" in line][-50:]
        if not args.keep_db:
            psql(admin_url, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)
        json.dump(result, sys.stdout, indent=2)
        print()


def run(args, result, server, url, work, password, clients, secs, log):
    """Everything measured, in order (see the module's docstring)."""
    if result["machine"]["sched_autogroup"]:
        log("warning: kernel.sched_autogroup_enabled=1; PostgreSQL's backends will stall now and then "
            "(sysctl -w kernel.sched_autogroup_enabled=0; docs/benchmarks.md, session 14)")
    server.start()
    result["rss_idle_mib"] = server.rss_mib()
    api = Api(server.base)
    admin = api.login("bench.admin", password)
    log("setting up organizations and users over the API")
    orgs, office, staff, applicants, tokens = set_up_office(api, admin, password)
    walked = walk_one(api, tokens, office["kasi"]["id"])
    # Setting up signed in 5 people and hashed 20 passwords (Argon2id, 19 MiB each).
    result["rss_after_setup_mib"] = server.rss_mib()
    users = {"applicant_org": orgs[0]["id"], "applicant": applicants[0]["id"], "kabid": office["kabid"]["id"],
             "staff": staff[0]["id"], "walked": walked}

    # The directory, for bench/seed.sql.
    psql(url, "CREATE TABLE bench_orgs (idx int, org_id uuid, kind text, applicant_id uuid);"
              "CREATE TABLE bench_staff (idx int, user_id uuid);"
              "CREATE TABLE bench_defs (flow text, id uuid);"
              "INSERT INTO bench_defs SELECT flow, id FROM workflow_definitions d WHERE version = "
              "(SELECT max(version) FROM workflow_definitions e WHERE e.flow = d.flow)")
    rows = ",".join(f"({i}, '{o['id']}', '{o['kind']}', '{a['id']}')" for i, (o, a) in enumerate(zip(orgs, applicants)))
    psql(url, f"INSERT INTO bench_orgs VALUES {rows}")
    psql(url, "INSERT INTO bench_staff VALUES " + ",".join(f"({i}, '{s['id']}')" for i, s in enumerate(staff)))

    if not args.transitions_only:
        measure_reads(args, result, server, api, url, work, tokens, users, clients, secs, log)
    else:
        # The transitions act on a register with a history, as after the read phases.
        log("seeding the newest 10 000 requests")
        result["seed_small_s"] = seed(url, TOTAL - SMALL + 1, TOTAL)
    if args.scale_only or args.reads_only:
        return
    transitions(args, result, server, url, work, tokens, office, clients, secs, log)


def measure_reads(args, result, server, api, url, work, tokens, users, clients, secs, log):
    """The scale set and the GET phases at 10 000 and at 1 000 000 requests."""
    # ---- 10 000 requests: the scale set, then the GET phases.
    log("seeding the newest 10 000 requests")
    result["seed_small_s"] = seed(url, TOTAL - SMALL + 1, TOTAL)
    psql(url, "VACUUM ANALYZE")
    # A seeded request must read back like one the service made.
    sample = psql(url, "SELECT id FROM requests WHERE status = 'in_progress' AND id <> "
                       f"'{users['walked']}' ORDER BY id DESC LIMIT 1").strip()
    api.call("GET", f"/requests/{sample}", tokens["kasi"])
    log("scale set at 10 000")
    result["scale_10k"] = scale_set(server, work, tokens, users, url, args.scale_duration)
    result["rss_after_scale_10k_mib"] = server.rss_mib()

    if not args.scale_only:
        get_phases(result, server, url, work, tokens, clients, secs, log, "")

    # ---- 1 000 000 requests: the scale set and the GET phases again.
    if not args.no_million:
        log("seeding the older 990 000 requests")
        t = 0.0
        for first in range(1, TOTAL - SMALL + 1, 110_000):
            t += seed(url, first, min(first + 110_000 - 1, TOTAL - SMALL))
            log(f"  … up to {min(first + 110_000 - 1, TOTAL - SMALL)}")
        result["seed_million_s"] = round(t, 1)
        psql(url, "VACUUM ANALYZE")
        log("scale set at 1 000 000")
        result["scale_1m"] = scale_set(server, work, tokens, users, url, args.scale_duration)
        if not args.scale_only:
            get_phases(result, server, url, work, tokens, clients, secs, log, "_1m")



def get_phases(result, server, url, work, tokens, clients, secs, log, suffix):
    """GET /requests/{id} (random ids among all), GET /tasks and the office's filtered list
    at each client count; results under get_request{suffix}, get_tasks{suffix}, …"""
    all_ids = psql(url, "SELECT id FROM requests ORDER BY random() LIMIT 5000").split()
    get_ids = ids_file(work, f"get_ids{suffix}.txt", all_ids)
    one = ids_file(work, "none.txt", [""])
    for name in ("get_request", "get_tasks", "get_list"):
        result[name + suffix] = []
    for c in clients:
        log(f"GET phases at {c} clients{suffix}")
        prof = Profile("get_request" + suffix, server.proc.pid, c, secs)
        before = server_side(server.base, "/api/v1/requests/{id}")
        hiccups = Hiccups()
        sched = SchedTrace(f"get_request{suffix}_{c}", secs)
        r = wrk(server.base, c, secs, tokens["kasi"], "get", get_ids, "/api/v1/requests/")
        time.sleep(0.5)  # the last answers are recorded when their bodies are sent
        after = server_side(server.base, "/api/v1/requests/{id}")
        r.update(hiccups.finish())
        prof.finish()
        r["server_answered"] = after["+Inf"] - before.get("+Inf", 0)
        r["server_over_100ms"] = slower_than(before, after, 0.1)
        if trace := sched.finish(keep=r["server_over_100ms"] > 0):
            r["sched_trace"] = trace
        r["server_over_1s"] = slower_than(before, after, 1.0)
        result["get_request" + suffix].append(dict(r, rss_mib=server.rss_mib()))
        prof = Profile("get_tasks" + suffix, server.proc.pid, c, secs)
        r = wrk(server.base, c, secs, tokens["kabid"], "get", one, "/api/v1/tasks")
        prof.finish()
        result["get_tasks" + suffix].append(dict(r, rss_mib=server.rss_mib()))
        prof = Profile("get_list" + suffix, server.proc.pid, c, secs)
        r = wrk(server.base, c, secs, tokens["kasi"], "get", one,
                "/api/v1/requests?status=in_progress&current_step=follow_up&limit=20")
        prof.finish()
        result["get_list" + suffix].append(dict(r, rss_mib=server.rss_mib()))
        if FLOOD["on"] and c == 8:
            # Issue 15, item 3: reads at 8 clients while sign-ins flood in at 32 connections.
            log("GET /requests/{id} at 8 clients under a login flood at 32")
            flood = login_flood(server.base, secs + 2)
            time.sleep(1)
            r = wrk(server.base, c, secs, tokens["kasi"], "get", get_ids, "/api/v1/requests/")
            out, _ = flood.communicate(timeout=secs + 60)
            logins = re.search(r"Requests/sec:\s+([\d.]+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            result["get_request_under_login_flood" + suffix] = dict(
                r, logins_per_s=float(logins.group(1)) if logins else None,
                login_non_2xx=int(non2xx.group(1)) if non2xx else 0, rss_mib=server.rss_mib())


def transitions(args, result, server, url, work, tokens, office, clients, secs, log):
    """Transitions through the API, then pgbench replaying one, at each client count."""
    # Pool requests awaiting disposition: n = 1..POOL for the service, POOL+1.. for pgbench.
    # One chunk of 25 000 per measured phase, and one for the warm-up.
    pool = 25_000 * (len(clients) + 1)
    pg_pool = 100_000
    log(f"seeding {pool + pg_pool} requests awaiting disposition")
    result["seed_pool_s"] = seed(url, 1, pool + pg_pool, pool=1)
    psql(url, "VACUUM ANALYZE")
    pool_ids = [str(uuid.UUID(f"000000000001" "7000" "9" f"{n:015x}")) for n in range(1, pool + 1)]
    body = json.dumps(dict(DISPOSITION, to_user_id=office["kasi"]["id"]))
    result["transitions"], result["pgbench"] = [], []
    logdir = os.path.join(work, "pgbench")
    os.makedirs(logdir)
    # The machine may be shared: give other work up to --wait-quiet seconds to finish.
    waited = wait_quiet(args.wait_quiet, log)
    result["waited_for_quiet_s"] = waited
    # An office's log, steps and notices have a history, and PostgreSQL plans on statistics
    # of it. Seeded, these tables start nearly empty: a short phase that is not measured
    # gives them their first thousands of rows, then ANALYZE, as autovacuum would in an
    # office (docs/benchmarks.md, session 15).
    warm = ids_file(work, "pool_warm_up.txt", pool_ids[len(clients) * 25_000:])
    log("warm-up: transitions at 8 clients for 10 s, not measured")
    result["warm_up_transitions"] = wrk(server.base, 8, 10, tokens["kabid"], "post", warm, "/api/v1/requests/",
                                        "/disposition", body)["requests"]
    for i, c in enumerate(clients):
        chunk = ids_file(work, f"pool_{c}.txt", pool_ids[i * 25_000:(i + 1) * 25_000])
        psql(url, "ANALYZE")
        # What the phase before left behind (autovacuum of the rows it changed, the
        # sequencer, a checkpoint) would otherwise run during this one: the second phase
        # was 15-20 % slower whichever client count it had (docs/benchmarks.md, session 15).
        settled = wait_idle(120, log)
        load = os.getloadavg()[0]
        log(f"transitions at {c} clients")
        meter = CpuMeter(server.proc.pid)
        prof = Profile("transition" if i == 0 else f"transition_{i + 1}", server.proc.pid, c, secs)
        waits = pool_waits(server.base)
        r = wrk(server.base, c, secs, tokens["kabid"], "post", chunk, "/api/v1/requests/", "/disposition", body)
        prof.finish()
        # How long the transitions waited for a pooled connection (the service's histogram).
        r["pool_waits"] = pool_waits_between(waits, pool_waits(server.base))
        result["transitions"].append(dict(r, rss_mib=server.rss_mib(), load_1m=load, idle_wait_s=settled,
                                          **meter.per_call(r["requests"])))
        if args.no_replay:
            continue
        log(f"pgbench at {c} clients")
        meter = CpuMeter()
        p = pgbench(url, c, secs, os.path.join(HERE, "transition.pgbench"), pool + 1, pg_pool,
                    {"kabid": office["kabid"]["id"], "kasi": office["kasi"]["id"]}, logdir)
        p.update(meter.per_call(p["transactions"]))
        p["ratio"] = round(r["per_s"] / p["per_s"], 3)
        result["pgbench"].append(p)
    # Every disposition left its audit event, and the request moved on.
    result["moved"] = int(psql(url, "SELECT count(*) FROM requests WHERE id::text LIKE '00000000-0001-7000-9%' "
                                    f"AND current_step = 'follow_up' AND id <= '{pool_ids[-1]}'").strip())
    # (pgbench's replays write events too, on their own requests: not counted here.)
    result["disposition_events"] = int(psql(url, "SELECT count(*) FROM audit_events WHERE action = "
                                                 "'request.step_completed' AND object_id::text LIKE "
                                                 f"'00000000-0001-7000-9%' AND object_id <= '{pool_ids[-1]}'").strip())
    audit_log(result, server, url, work, tokens, clients, secs, log)
    result["rss_end_mib"] = server.rss_mib()
    # The same process at rest a little later (the service gives free memory back every 10 s).
    time.sleep(15)
    result["rss_end_settled_mib"] = server.rss_mib()
    # What it is made of: the heap and stacks (RssAnon) against the binary's pages read in (RssFile).
    result["rss_end_settled_parts_mib"] = {f: server.rss_mib(f) for f in ("RssAnon", "RssFile", "RssShmem")}
    result["load_after"] = os.getloadavg()


def audit_log(result, server, url, work, tokens, clients, secs, log):
    """The transparency log under that load: how long each disposition's event waited
    for a signed checkpoint (the sequencer's lag), then inclusion-proof lookups."""
    ours = "e.action = 'request.step_completed' AND e.object_id::text LIKE '00000000-0001-7000-9%'"
    t0 = time.time()
    while int(psql(url, "SELECT count(*) FROM audit_events WHERE leaf_index IS NULL").strip()) and time.time() - t0 < 120:
        time.sleep(0.5)
    result["sequencer_caught_up_s"] = round(time.time() - t0, 1)
    lags = [float(x) for x in psql(url, f"""
        SELECT EXTRACT(EPOCH FROM (SELECT c.created_at FROM audit_checkpoints c WHERE c.size > e.leaf_index
                                   ORDER BY c.size LIMIT 1) - e.occurred_at)
        FROM audit_events e WHERE {ours} AND e.leaf_index IS NOT NULL""").split()]
    result["sequencer_lag"] = {
        "events": len(lags), "p50_ms": round(pct(lags, 50) * 1000, 1), "p99_ms": round(pct(lags, 99) * 1000, 1),
        "max_ms": round(max(lags, default=0) * 1000, 1),
        "checkpoints": int(psql(url, "SELECT count(*) FROM audit_checkpoints").strip()),
        "log_size": int(psql(url, "SELECT count(*) FROM audit_events WHERE leaf_index IS NOT NULL").strip())}
    events = psql(url, f"SELECT e.id FROM audit_events e WHERE {ours} AND e.leaf_index IS NOT NULL "
                       "ORDER BY random() LIMIT 5000").split()
    chunk = ids_file(work, "events.txt", events)
    result["proofs"] = []
    for c in clients:
        log(f"inclusion proofs at {c} clients")
        meter = CpuMeter(server.proc.pid)
        prof = Profile("proof", server.proc.pid, c, secs)
        r = wrk(server.base, c, secs, tokens["kabid"], "get", chunk, "/api/v1/audit/events/", "/proof")
        prof.finish()
        result["proofs"].append(dict(r, **meter.per_call(r["requests"])))


if __name__ == "__main__":
    main()
