#!/usr/bin/env python3
"""GET /reports/sla and /reports/summary over many finished requests, on PostgreSQL.

    CARGO_TARGET_DIR=/tmp/jb-release cargo build --release -p jembatan
    bench/reports.py --bin /tmp/jb-release/release/jembatan [--requests 100000] [--runs 15]

What it does (Python standard library + `psql`; traffic to 127.0.0.1 only):

1. creates a fresh database `jb_bench_reports` on the PostgreSQL at --pg (default
   postgres://postgres@127.0.0.1:5432, trust auth) and starts `jembatan serve` on it, which
   migrates it and seeds the SOP definitions and the office calendar;
2. inserts --requests finished requests straight into the tables (a generate_series
   statement, seconds instead of hours through the API): 30 agencies and 3 divisions,
   external requests for agencies and internal ones for divisions, every step of the flow
   finished, submitted between January 2025 and November 2026. Durations are synthetic
   (spread around each step's time standard, ~1 in 5 past its target, ~1 in 20 past its
   limit); the point is the volume, not the figures;
3. waits until the service has folded the finished steps into the SLA report's histogram
   (PostgreSQL, migration m0014: the import is queued by a trigger; `fold_seconds`) and,
   on a database from before m0016, has filed the steps under their organization
   (`file_seconds_after_fold`), then
   `VACUUM ANALYZE` (what autovacuum does on a live database; the report's index-only
   scans need the visibility map);
4. signs in as the bootstrap admin and times each report --runs times after two warm-up
   calls, one keep-alive connection, wall time per HTTP request; prints JSON.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DB = "jb_bench_reports"

# Per flow: (order, step code, actor, time standard, typical working seconds).
STEPS = {
    "external": [
        (1, "submit", "role:applicant", "1d", 14_000),
        (2, "disposition", "role:head_of_division", "15m", 600),
        (3, "follow_up", "role:technical_lead", "15m", 700),
        (4, "discussion", "role:technical_lead", "1d", 20_000),
        (5, "approval", "role:head_of_agency", "1d", 15_000),
        (6, "team", "role:technical_lead", "1h", 2_400),
        (7, "integration", "team", "1w", 90_000),
        (8, "testing", "team", "1-2d", 30_000),
        (9, "implementation", "team", "2d", 40_000),
        (10, "report", "team", "1d", 18_000),
    ],
    "internal": [
        (1, "submit", "role:applicant", "1d", 12_000),
        (2, "disposition", "role:head_of_division", "15m", 500),
        (3, "follow_up", "role:technical_lead", "1d", 16_000),
        (4, "discussion", "role:technical_lead", "1d", 18_000),
        (5, "team", "role:technical_lead", "1h", 2_000),
        (6, "integration", "team", "1w", 80_000),
        (7, "testing", "team", "1-2d", 25_000),
        (8, "implementation", "team", "2d", 38_000),
        (9, "report", "team", "1d", 17_000),
    ],
}
# Working seconds of each standard's target (7.75 h days; 1-2d targets one day).
TARGET = {"15m": 900, "1h": 3_600, "1d": 27_900, "1-2d": 27_900, "2d": 55_800, "1w": 139_500}


def psql(pg, db, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{pg}/{db}", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def seed_sql(n, step_organization):
    """`step_organization`: the schema has `step_instances.organization_id` (m0016); an
    older build's has not, and timing that build on the same data needs this seed too."""
    org_col, org_val = (" organization_id,", " organization_id,") if step_organization else ("", "")
    steps = ",\n".join(
        f"('{flow}', {order}, '{code}', '{actor}', '{std}', {typical}, {TARGET[std]})"
        for flow, rows in STEPS.items() for order, code, actor, std, typical in rows)
    # Deterministic pseudo-random numbers: hashes of (request, step).
    return f"""
BEGIN;
INSERT INTO organizations (id, code, name, kind, active, version, created_at, updated_at)
SELECT gen_random_uuid(), 'BENCH-' || lpad(k::text, 2, '0'), 'Bench organization ' || k,
       CASE WHEN k <= 30 THEN 'agency' ELSE 'division' END, true, 1, now(), now()
FROM generate_series(1, 33) k;

CREATE TEMP TABLE bench_steps (flow text, ord int, code text, actor text, std text, typical int, target int);
INSERT INTO bench_steps VALUES {steps};

CREATE TEMP TABLE bench_orgs AS
SELECT id, CASE kind WHEN 'agency' THEN 'external' ELSE 'internal' END AS flow,
       row_number() OVER (ORDER BY code) - 1 AS k
FROM organizations WHERE code LIKE 'BENCH-%';

CREATE TEMP TABLE bench_requests AS
SELECT g, gen_random_uuid() AS id, o.id AS organization_id, o.flow,
       (SELECT d.id FROM workflow_definitions d WHERE d.flow = o.flow ORDER BY d.version LIMIT 1) AS definition_id,
       timestamptz '2025-01-02 01:00+00' + ((g::bigint * 7919) % (680 * 24 * 60)) * interval '1 minute' AS submitted_at
FROM generate_series(1, {n}) g
JOIN bench_orgs o ON o.k = g % 33;

-- Each step starts when the one before ends; wall time ~3x its working time.
CREATE TEMP TABLE bench_step_rows AS
SELECT r.id AS request_id, r.organization_id, r.flow, s.code, s.actor, s.std, s.ord, s.target,
       -- 80 % around the typical duration, 15 % past the target, 5 % past the limit (2x).
       CASE WHEN h % 100 < 80 THEN (s.typical * (50 + h % 100)) / 100
            WHEN h % 100 < 95 THEN s.target + (s.target * (h % 50)) / 100
            ELSE 2 * s.target + (h % 3600) END AS working,
       r.submitted_at
FROM bench_requests r
JOIN bench_steps s ON s.flow = r.flow
CROSS JOIN LATERAL (SELECT abs(hashint8(r.g::bigint * 16 + s.ord)) AS h) x;

CREATE TEMP TABLE bench_timed AS
SELECT *, submitted_at + (sum(working * 3) OVER w - working * 3) * interval '1 second' AS started_at,
          submitted_at + (sum(working * 3) OVER w) * interval '1 second' AS completed_at
FROM bench_step_rows
WINDOW w AS (PARTITION BY request_id ORDER BY ord);

INSERT INTO requests (id, number, flow, definition_id, organization_id, title, purpose, source_system,
    target_system, data_exchanged, letter_number, letter_date, status, current_step, current_actor,
    office_has_acted, test_rounds, version, created_at, updated_at, submitted_at, closed_at, working_seconds)
SELECT r.id, 'BENCH/' || r.g, r.flow, r.definition_id, r.organization_id, 'Bench request ' || r.g,
       'Benchmark data', 'SIMPUS', 'Satu Data', 'records', 'B/' || r.g, r.submitted_at::date,
       'completed', 'report', 'none', true, 0, 12, r.submitted_at, t.closed_at, r.submitted_at,
       t.closed_at, t.working
FROM bench_requests r
JOIN (SELECT request_id, max(completed_at) AS closed_at, sum(working) AS working
      FROM bench_timed GROUP BY request_id) t ON t.request_id = r.id;

INSERT INTO step_instances (id, request_id,{org_col} flow, step_code, round, actor, time_standard, started_at,
    clock_started_at, warning_at, due_at, limit_at, paused_seconds, completed_at, outcome, working_seconds)
SELECT gen_random_uuid(), request_id,{org_val} flow, code, 1, actor, std, started_at, started_at,
       started_at + (target * 3 * 3 / 4) * interval '1 second',
       started_at + (target * 3) * interval '1 second',
       started_at + (target * 6) * interval '1 second',
       0, completed_at, 'completed', working
FROM bench_timed;
COMMIT;
"""


def query(pg, sql):
    return subprocess.run(["psql", "-At", f"{pg}/{DB}", "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, proc):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("jembatan exited during start")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health/ready")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("jembatan did not become ready")


def timed(conn, path, headers, runs):
    def call():
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        ms = (time.perf_counter() - t) * 1000
        if resp.status != 200:
            sys.exit(f"{path}: {resp.status} {body[:300]!r}")
        return ms, body

    for _ in range(2):
        call()
    samples = []
    body = b""
    for _ in range(runs):
        ms, body = call()
        samples.append(ms)
    samples.sort()
    return {"min_ms": round(samples[0], 1), "median_ms": round(statistics.median(samples), 1),
            "max_ms": round(samples[-1], 1), "runs": runs}, body


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--reuse-db", action="store_true",
                    help="keep the database of the last run (no seeding): e.g. to time an older build and then this "
                         "one, whose start migrates it, on the same data")
    args = ap.parse_args()

    if not args.reuse_db:
        psql(args.pg, "postgres", f"DROP DATABASE IF EXISTS {DB}")
        psql(args.pg, "postgres", f"CREATE DATABASE {DB}")
    # A reused database needs the same audit signing key (in the work directory) and admin.
    state_file = os.path.join(tempfile.gettempdir(), f"{DB}.json")
    if args.reuse_db:
        with open(state_file) as f:
            saved = json.load(f)
        work, password = saved["work"], saved["password"]
    else:
        work = tempfile.mkdtemp(prefix="jb-bench-reports-")
        password = "bench-" + secrets.token_urlsafe(18)
        with open(state_file, "w") as f:
            json.dump({"work": work, "password": password}, f)
    port = free_port()
    env = dict(os.environ, JEMBATAN_DATABASE_URL=f"{args.pg}/{DB}", JEMBATAN_LISTEN=f"127.0.0.1:{port}",
               JEMBATAN_STORAGE_DIR=f"{work}/documents", JEMBATAN_JWT_SECRET=secrets.token_urlsafe(48),
               JEMBATAN_ADMIN_USERNAME="bench.admin", JEMBATAN_ADMIN_PASSWORD=password,
               JEMBATAN_ACCESS_TOKEN_TTL_SECS="3600", RUST_LOG="warn")
    proc = subprocess.Popen([args.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=open(f"{work}/log", "w"))
    try:
        wait_ready(port, proc)
        t = time.monotonic()
        if not args.reuse_db:
            step_organization = query(
                args.pg, "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                         "table_name = 'step_instances' AND column_name = 'organization_id')") == "t"
            psql(args.pg, DB, seed_sql(args.requests, step_organization))
        seeded_s = time.monotonic() - t
        t = time.monotonic()
        histogram = query(args.pg, "SELECT to_regclass('sla_pending') IS NOT NULL") == "t"
        while histogram and query(args.pg, "SELECT EXISTS (SELECT 1 FROM sla_pending)") == "t":
            time.sleep(1)
        fold_s = time.monotonic() - t
        # Steps from before m0016 are filed under their organization in the background.
        t = time.monotonic()
        filing = query(args.pg, "SELECT to_regclass('ix_step_instances_unfiled') IS NOT NULL") == "t"
        while filing and query(args.pg, "SELECT EXISTS (SELECT 1 FROM step_instances "
                                        "WHERE organization_id IS NULL)") == "t":
            time.sleep(1)
        file_s = time.monotonic() - t
        t = time.monotonic()
        psql(args.pg, DB, "VACUUM ANALYZE")
        vacuum_s = time.monotonic() - t
        counts = subprocess.run(
            ["psql", "-At", f"{args.pg}/{DB}", "-c",
             "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM step_instances)"],
            check=True, capture_output=True, text=True).stdout.strip().split("|")

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", "/api/v1/auth/login", body=json.dumps({"username": "bench.admin", "password": password}),
                     headers={"Content-Type": "application/json"})
        token = json.load(conn.getresponse())["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        org = subprocess.run(["psql", "-At", f"{args.pg}/{DB}", "-c",
                              "SELECT id FROM organizations WHERE code = 'BENCH-07'"],
                             check=True, capture_output=True, text=True).stdout.strip()
        results = {}
        for name, path, headers in [
            ("sla, everything", "/api/v1/reports/sla", auth),
            ("sla, external flow", "/api/v1/reports/sla?flow=external", auth),
            ("sla, one year", "/api/v1/reports/sla?from=2025-01-01&to=2025-12-31", auth),
            ("sla, 10 January to 28 February", "/api/v1/reports/sla?from=2026-01-10&to=2026-02-28", auth),
            ("sla, 2 to 8 March", "/api/v1/reports/sla?from=2026-03-02&to=2026-03-08", auth),
            ("sla, one agency", f"/api/v1/reports/sla?organization_id={org}", auth),
            ("sla, everything, CSV", "/api/v1/reports/sla", {**auth, "Accept": "text/csv"}),
            ("summary, everything", "/api/v1/reports/summary", auth),
        ]:
            results[name], body = timed(conn, path, headers, args.runs)
            if name == "sla, everything":
                completed = sum(r["completed"] for r in json.loads(body)["rows"])
                results[name]["completed_steps_counted"] = completed
        print(json.dumps({
            "requests": int(counts[0]), "step_instances": int(counts[1]),
            "seed_seconds": round(seeded_s, 1), "fold_seconds": round(fold_s, 1),
            "file_seconds_after_fold": round(file_s, 1), "vacuum_analyze_seconds": round(vacuum_s, 1),
            "timings": results,
        }, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
