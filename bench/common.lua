-- Shared by the `cargo xtask bench` scripts (each loads it with dofile).
--
-- A benchmark of error answers is worthless: every answer whose status is not BENCH_EXPECT
-- (default 200) is counted, and the bench fails the scenario if there is any. `done` prints one
-- machine-readable line (BENCH-RESULT key=value ..., times in microseconds) so the bench never
-- parses wrk's human output, and BENCH-SAMPLE with the first unexpected answer.
local ffi = require("ffi")
ffi.cdef [[
  struct bench_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clock, struct bench_timespec *ts);
  int getpid(void);
  int kill(int pid, int sig);
]]

local M = {}

local expected = tonumber(os.getenv("BENCH_EXPECT") or "200")

-- Main state: every thread, so that `done` can read their counters.
local threads = {}

function M.setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

-- Thread state: the unexpected answers, and the first one for the report.
unexpected = 0

-- Counts the answer as unexpected unless its status is `wanted` (default BENCH_EXPECT).
function M.check(status, body, wanted)
  if status ~= (wanted or expected) then
    unexpected = unexpected + 1
    if first_unexpected == nil then
      first_unexpected = status .. " " .. (string.sub(body or "", 1, 300):gsub("%s+", " "))
    end
  end
end

-- Microseconds on the monotonic clock, comparable across threads.
function M.now_us()
  local ts = ffi.new("struct bench_timespec")
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

-- A thread has sent its whole slice: the last thread to get here ends wrk (SIGINT makes wrk stop
-- waiting out its -d duration and report). Threads count themselves in BENCH_DONE_FILE: an append
-- is atomic, and the last appender always sees every earlier line.
function M.thread_finished()
  local path = os.getenv("BENCH_DONE_FILE")
  local f = assert(io.open(path, "a"))
  f:write("done\n")
  f:close()
  local n = 0
  for _ in io.lines(path) do
    n = n + 1
  end
  if n == tonumber(os.getenv("BENCH_THREADS")) then
    ffi.C.kill(ffi.C.getpid(), 2) -- SIGINT
  end
end

function M.done(summary, latency, requests)
  local bad, sample, first, last = 0, nil, nil, nil
  for _, t in ipairs(threads) do
    bad = bad + (t:get("unexpected") or 0)
    sample = sample or t:get("first_unexpected")
    local s, e = t:get("started_us"), t:get("finished_us")
    if s and (first == nil or s < first) then first = s end
    if e and (last == nil or e > last) then last = e end
  end
  local e = summary.errors
  local transport = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "BENCH-RESULT requests=%d duration_us=%d span_us=%d errors=%d unexpected=%d transport=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, (first and last) and (last - first) or 0, bad + transport, bad, transport,
    latency:percentile(50), latency:percentile(99)))
  if sample then
    io.write("BENCH-SAMPLE " .. sample .. "\n")
  end
end

return M
