-- wrk script for bench/load.py (not for use on its own).
--
--   BENCH_MODE=get    GET BENCH_PATH_PREFIX .. <a random id from BENCH_IDS>
--   BENCH_MODE=post   POST BENCH_PATH_PREFIX .. <id> .. BENCH_PATH_SUFFIX with BENCH_BODY;
--                     each id of BENCH_IDS is used once: thread k of n takes lines
--                     k, k+n, k+2n, … so no two connections ever act on the same request.
--   BENCH_TOKEN       the bearer token
--
-- When a post thread runs out of ids it stops (and says so on stderr) rather than repeat one.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local ids, pos, mode, prefix, suffix, body, nthreads = {}, 0, nil, nil, nil, nil, nil

function init(args)
  mode = os.getenv("BENCH_MODE")
  prefix = os.getenv("BENCH_PATH_PREFIX")
  suffix = os.getenv("BENCH_PATH_SUFFIX") or ""
  body = os.getenv("BENCH_BODY")
  nthreads = tonumber(os.getenv("BENCH_THREADS"))
  local line_no = 0
  for line in io.lines(os.getenv("BENCH_IDS")) do
    if mode == "get" or line_no % nthreads == tid then
      table.insert(ids, line)
    end
    line_no = line_no + 1
  end
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  if mode == "post" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = body
  end
  math.randomseed(os.time() + tid * 7919)
end

function request()
  if mode == "get" then
    return wrk.format(nil, prefix .. ids[math.random(#ids)] .. suffix)
  end
  pos = pos + 1
  if pos > #ids then
    io.stderr:write("bench: thread " .. tid .. " ran out of requests to move\n")
    wrk.thread:stop()
    pos = #ids
  end
  return wrk.format(nil, prefix .. ids[pos] .. suffix)
end

-- The far tail, which wrk's --latency table stops short of (bench/load.py reads these).
function done(summary, latency, requests)
  io.write(string.format("tail: p99.9 %.0f us, max %.0f us\n", latency:percentile(99.9), latency.max))
end
