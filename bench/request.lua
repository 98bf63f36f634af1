-- One fixed request on keep-alive connections, for `cargo xtask bench`: the URL's path, with
-- BENCH_METHOD (default GET), BENCH_AUTH (the whole Authorization value, say "Basic ...") and
-- BENCH_BODY (sent as BENCH_CONTENT_TYPE, default form-urlencoded) from the environment.
-- By hand: BENCH_METHOD=POST BENCH_AUTH="Basic $(printf c:s | base64)" \
--   BENCH_BODY='grant_type=client_credentials&scope=read' wrk -t2 -c16 -d15s -s bench/request.lua URL
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/x-www-form-urlencoded"
end
local auth = os.getenv("BENCH_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

setup = common.setup
done = common.done

function response(status, headers, body)
  common.check(status, body)
end
