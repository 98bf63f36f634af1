-- Requests from a list, for the many-client scenarios of `cargo xtask bench`. BENCH_LIST is a
-- file of one request per line: METHOD, path, Authorization value and body, tab-separated (the
-- body, if any, is sent as BENCH_CONTENT_TYPE, default form-urlencoded).
--
-- BENCH_ONCE=1: every request exactly once. Run it with one connection per thread (-t N -c N)
-- and BENCH_THREADS=N: each thread takes its own slice of the list (every N-th line), sends it
-- in order, records when it started and finished, and stops; the last thread ends wrk (see
-- common.lua). Otherwise each request is drawn at random from the whole list, for as long as wrk
-- runs.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

setup = common.setup
done = common.done

local once = os.getenv("BENCH_ONCE") == "1"
local requests = {}
local sent, answered = 0, 0
-- wrk calls the first thread's request() once before the run, to check the request's shape
-- (script_verify_request): that call must not use up a request of the slice.
local verified

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local content_type = os.getenv("BENCH_CONTENT_TYPE") or "application/x-www-form-urlencoded"
  local line_number = 0
  for line in io.lines(os.getenv("BENCH_LIST")) do
    if not once or line_number % threads == index then
      local method, path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if auth ~= "" then headers["Authorization"] = auth end
      if body ~= "" then headers["Content-Type"] = content_type else body = nil end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
    line_number = line_number + 1
  end
  math.randomseed(os.time() + 7919 * index)
  verified = index ~= 0
end

function request()
  if not once then
    return requests[math.random(#requests)]
  end
  if not verified then
    verified = true
    return requests[1]
  end
  if sent == 0 then
    started_us = common.now_us()
  end
  sent = sent + 1
  return requests[sent]
end

function response(status, headers, body)
  common.check(status, body)
  if once then
    answered = answered + 1
    if answered == #requests then
      finished_us = common.now_us()
      wrk.thread:stop()
      common.thread_finished()
    end
  end
end
