-- Bulk seeder for the load benchmark (bench/load.py runs it with psql; not a migration).
--
-- Inserts requests number :first .. :last (inclusive) straight into `requests`, with the
-- open step instance of every request that is not closed and the integration team of
-- every request that has passed the `team` step, the way api/src/service/requests.rs
-- writes them (same columns, same actor keys `role:<role>` / `team` / `none`, same
-- status/current_step pairs, current_* copied from the open step instance).
--
--   psql -v first=1 -v last=10000 -v total=1000000 -v pool=0 -f bench/seed.sql DBURL
--
-- With pool=1 every request is instead an external (agency) request submitted a
-- moment ago and awaiting `disposition` (the pool the transition phase and pgbench act
-- on), with the predictable id 00000000-0001-7000-9<n, 15 hex> that
-- bench/transition.pgbench computes from n.
--
-- Needs three small tables that bench/load.py fills from the API-created directory:
--   bench_orgs(idx int, org_id uuid, kind text, applicant_id uuid)  idx = 0..k-1
--   bench_staff(idx int, user_id uuid)                               idx = 0..m-1
--   bench_defs(flow text, id uuid)                                   published definitions
--
-- Request n gets the UUIDv7-shaped id  <created_at in ms, 12 hex>7000 8<n, 15 hex>,
-- so ids sort like creation times, as the service's Uuid::now_v7() does; created_at runs
-- from 3 years ago (n = 1) to a day ago (n = :total), so seeding the newest 10 000 first
-- and then 1..990 000 grows the history backwards.
--
-- Mix (fixed per n, the same share at every scale, deliberately: open work grows with the
-- table, the harder case for lists and worklists): 77 % completed, 5 % rejected, 3 %
-- withdrawn, 11.5 % in progress (spread evenly over steps 2..last of the flow), 1.5 %
-- returned (at steps 2..5), 2 % draft. Open steps started 0–10 days ago; due/limit times
-- are the SOP standard in wall-clock time (not the working calendar: close enough for
-- lists, which only sort and compare them). Steps past their warning/limit are marked as
-- already notified, so the SLA sweeper has nothing to catch up on during the run.
-- Not seeded: completed step instances, documents, audit events and notifications of the
-- history — none of the measured endpoints reads them. Seeded besides the steps and
-- teams: the disposition's addressee of each request past that step.

\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE bench_steps (flow text, idx int, code text, actor text, std text, target interval, lim interval)
ON COMMIT DROP;
INSERT INTO bench_steps VALUES
  ('external', 1, 'submit', 'role:applicant', '1d', '8 hours', '8 hours'),
  ('external', 2, 'disposition', 'role:head_of_division', '15m', '15 minutes', '15 minutes'),
  ('external', 3, 'follow_up', 'role:technical_lead', '15m', '15 minutes', '15 minutes'),
  ('external', 4, 'discussion', 'role:technical_lead', '1d', '8 hours', '8 hours'),
  ('external', 5, 'approval', 'role:head_of_agency', '1d', '8 hours', '8 hours'),
  ('external', 6, 'team', 'role:head_of_division', '1h', '1 hour', '1 hour'),
  ('external', 7, 'integration', 'team', '1w', '7 days', '7 days'),
  ('external', 8, 'testing', 'team', '1-2d', '1 day', '2 days'),
  ('external', 9, 'implementation', 'team', '2d', '2 days', '2 days'),
  ('external', 10, 'report', 'role:technical_lead', '1d', '1 day', '1 day'),
  ('internal', 1, 'submit', 'role:applicant', '1d', '8 hours', '8 hours'),
  ('internal', 2, 'disposition', 'role:head_of_division', '15m', '15 minutes', '15 minutes'),
  ('internal', 3, 'follow_up', 'role:technical_lead', '1d', '8 hours', '8 hours'),
  ('internal', 4, 'discussion', 'role:technical_lead', '1d', '8 hours', '8 hours'),
  ('internal', 5, 'team', 'role:head_of_division', '1h', '1 hour', '1 hour'),
  ('internal', 6, 'integration', 'team', '1w', '7 days', '7 days'),
  ('internal', 7, 'testing', 'team', '1-2d', '1 day', '2 days'),
  ('internal', 8, 'implementation', 'team', '2d', '2 days', '2 days'),
  ('internal', 9, 'report', 'role:technical_lead', '1d', '1 day', '1 day');

-- One row per new request with everything derived from n.
CREATE TEMP TABLE bench_new ON COMMIT DROP AS
WITH base AS (
  SELECT n,
         -- a cheap, fixed scramble of n: the mix must not follow n's order
         (n * 2654435761::bigint) % 1000 AS u,
         (n * 40503::bigint) % 997 AS v,
         now() - interval '3 years' + (interval '3 years' - interval '1 day') * (n::float8 / :total) AS created_at
  FROM generate_series(:first::bigint, :last::bigint) AS n
), typed AS (
  SELECT b.*, o.org_id, o.applicant_id,
         CASE o.kind WHEN 'agency' THEN 'external' ELSE 'internal' END AS flow,
         CASE WHEN :pool = 1 THEN 'in_progress'
              WHEN u < 770 THEN 'completed' WHEN u < 820 THEN 'rejected' WHEN u < 850 THEN 'withdrawn'
              WHEN u < 965 THEN 'in_progress' WHEN u < 980 THEN 'returned' ELSE 'draft' END AS status
  -- bench_orgs numbers the agencies first; the pool uses agencies only (an internal
  -- request's disposition needs a request_letter document, an external one's none)
  FROM base b JOIN bench_orgs o
    ON o.idx = b.n % (SELECT count(*) FROM bench_orgs WHERE :pool = 0 OR kind = 'agency')
), stepped AS (
  SELECT t.*,
         CASE WHEN :pool = 1 THEN 2 ELSE CASE t.status
           WHEN 'draft' THEN 1
           WHEN 'withdrawn' THEN 2
           WHEN 'rejected' THEN 2 + v % 3
           WHEN 'returned' THEN 2 + v % (CASE t.flow WHEN 'external' THEN 4 ELSE 3 END)
           WHEN 'in_progress' THEN 2 + v % (CASE t.flow WHEN 'external' THEN 9 ELSE 8 END)
           ELSE (CASE t.flow WHEN 'external' THEN 10 ELSE 9 END)
         END END AS step_idx,
         CASE WHEN :pool = 1 THEN now() ELSE now() - interval '10 days' * (v::float8 / 997) END AS step_started
  FROM typed t
)
SELECT s.*, st.code, st.actor, st.std, st.target, st.lim,
       (CASE WHEN :pool = 1 THEN '000000000001' || '7000' || '9'
             ELSE lpad(to_hex((extract(epoch FROM s.created_at) * 1000)::bigint), 12, '0') || '7000' || '8' END
         || lpad(to_hex(s.n), 15, '0'))::uuid AS id,
       (lpad(to_hex((extract(epoch FROM s.step_started) * 1000)::bigint), 12, '0') || '7001'
         || CASE WHEN :pool = 1 THEN '9' ELSE '8' END
         || lpad(to_hex(s.n), 15, '0'))::uuid AS inst_id,
       s.status IN ('draft', 'returned', 'in_progress') AS open,
       -- the team exists once the `team` step is done
       st.idx > (CASE s.flow WHEN 'external' THEN 6 ELSE 5 END) AS has_team
FROM stepped s JOIN bench_steps st ON st.flow = s.flow AND st.idx = s.step_idx;

INSERT INTO requests (id, number, flow, definition_id, organization_id, created_by_user, created_by_client,
  title, purpose, source_system, target_system, data_exchanged, letter_number, letter_date,
  status, current_step, current_actor, current_step_instance_id, current_step_started_at,
  current_warning_at, current_due_at, current_limit_at, office_has_acted, returned_at, test_rounds,
  base_url, repository_url, version, created_at, updated_at, submitted_at, closed_at)
SELECT b.id,
       CASE WHEN b.status = 'draft' THEN NULL
            ELSE 'INT/' || extract(year FROM b.created_at)::int || CASE WHEN :pool = 1 THEN '/P' ELSE '/B' END || lpad(b.n::text, 7, '0') END,
       b.flow, d.id, b.org_id, b.applicant_id, NULL,
       'Integrasi sistem ' || (ARRAY['SIMPUS', 'SIAK', 'e-Kinerja', 'SIPD', 'Satu Data', 'SIMRS', 'e-Office'])[1 + b.n % 7]
         || ' nomor ' || b.n,
       'Pertukaran data antar sistem sesuai kebijakan Satu Data Trenggalek',
       'Aplikasi ' || b.org_id, 'Portal Satu Data Trenggalek', 'Data agregat harian tanpa data pribadi',
       '000.8/' || b.n || '/406.000/' || extract(year FROM b.created_at)::int, b.created_at::date,
       b.status, b.code,
       CASE WHEN b.open THEN b.actor ELSE 'none' END,
       CASE WHEN b.open THEN b.inst_id END,
       CASE WHEN b.open THEN b.step_started END,
       CASE WHEN b.open THEN b.step_started + b.target * 0.8 END,
       CASE WHEN b.open THEN b.step_started + b.target END,
       CASE WHEN b.open THEN b.step_started + b.lim END,
       b.step_idx > 2 OR b.status IN ('rejected', 'returned'),
       CASE WHEN b.status = 'returned' THEN b.step_started + b.target * 0.5 END,
       0,
       CASE WHEN b.status = 'completed' OR (b.open AND b.code IN ('testing', 'implementation', 'report'))
            THEN 'https://api.trenggalekkab.go.id/bench/' || b.n END,
       NULL,
       b.step_idx * 2,
       b.created_at,
       CASE WHEN b.open THEN b.step_started ELSE b.created_at + interval '20 days' END,
       CASE WHEN b.status = 'draft' THEN NULL ELSE b.created_at + interval '1 hour' END,
       CASE WHEN b.open THEN NULL ELSE b.created_at + interval '20 days' END
FROM bench_new b JOIN bench_defs d ON d.flow = b.flow;

INSERT INTO step_instances (id, request_id, organization_id, flow, step_code, round, actor, time_standard, started_at,
  clock_started_at, warning_at, due_at, limit_at, paused_seconds, completed_at, completed_by_user, completed_by_client,
  outcome, note, warning_notified_at, overdue_notified_at)
SELECT b.inst_id, b.id, b.org_id, b.flow, b.code, 1, b.actor, b.std, b.step_started, b.step_started,
       b.step_started + b.target * 0.8, b.step_started + b.target, b.step_started + b.lim, 0,
       NULL, NULL, NULL, NULL, NULL,
       CASE WHEN b.step_started + b.target * 0.8 <= now() THEN b.step_started + b.target * 0.8 END,
       CASE WHEN b.step_started + b.lim <= now() THEN b.step_started + b.lim END
FROM bench_new b WHERE b.open;

-- Lead and one member, two different technical staff picked by n.
INSERT INTO team_members (request_id, user_id, is_lead, added_at)
SELECT b.id, s.user_id, s.idx = b.n % m.cnt, b.created_at + interval '3 days'
FROM bench_new b
CROSS JOIN (SELECT count(*) AS cnt FROM bench_staff) m
JOIN bench_staff s ON s.idx IN (b.n % m.cnt, (b.n + 1) % m.cnt)
WHERE b.has_team;

-- The disposition's addressee of every request past the `disposition` step (a technical
-- staff member picked by n), as the service keeps them: the transitions' statements on
-- request_addressees are then planned against a table with rows in it, as in a working
-- office. Left empty, PostgreSQL planned them as sequential scans of a table that then
-- grew by one row per disposition: 68 M rows read in 12 000 transitions, and every phase
-- slower than the one before (docs/benchmarks.md, session 15).
INSERT INTO request_addressees (request_id, user_id, added_at)
SELECT b.id, s.user_id, b.created_at + interval '2 days'
FROM bench_new b
CROSS JOIN (SELECT count(*) AS cnt FROM bench_staff) m
JOIN bench_staff s ON s.idx = b.n % m.cnt
WHERE b.step_idx > 2;

COMMIT;
