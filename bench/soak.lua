-- The mixed load of `cargo xtask soak`: token requests, introspection, admin reads and admin
-- writes, each answer checked against its own expected status (common.lua counts the others).
-- Run it with one connection per thread (-t N -c N): a thread then has one request in flight,
-- so each answer is known to belong to the request this thread sent last.
--
-- Every 20 requests of a thread: 8 tokens (client_credentials, client_secret_basic), 6
-- introspections of SOAK_TOKEN, 4 admin reads (applications, users, provider, audit) and 2 admin
-- writes. The writes cycle through an identity's life (create, rename, delete), and every tenth
-- cycle through an application's (create, which hashes a generated secret with argon2id, then
-- delete), so the database does not grow with the run apart from the audit trail.
--
-- From the environment: SOAK_REALM, SOAK_CLIENT_AUTH (the whole Basic value), SOAK_TOKEN (an
-- access token of that client) and SOAK_ADMIN_TOKEN (a root-realm token with the admin scope).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

setup = common.setup
done = common.done

local FORM = "application/x-www-form-urlencoded"
local SCHEDULE = {
  "token", "introspect", "token", "read", "token", "introspect", "write", "token", "introspect", "read",
  "token", "introspect", "token", "read", "token", "introspect", "write", "token", "introspect", "read",
}

local realm, admin, json
local token, introspect, reads
local step, reads_sent, cycles = 0, 0, 0
-- The write cycle in progress: its kind ("user" or "app"), its name and what it did last.
local subject, kind, stage
-- The status the request in flight must get.
local wanted
-- wrk calls the first thread's request() once before the run to check the request's shape
-- (script_verify_request); that call gets no answer, so it must not move the schedule.
local verified

function init(args)
  realm = os.getenv("SOAK_REALM")
  admin = "Bearer " .. os.getenv("SOAK_ADMIN_TOKEN")
  json = { ["Authorization"] = admin, ["Content-Type"] = "application/json" }
  local client = { ["Authorization"] = os.getenv("SOAK_CLIENT_AUTH"), ["Content-Type"] = FORM }
  local oauth2 = "/oauth2/realms/" .. realm
  token = wrk.format("POST", oauth2 .. "/access_token", client, "grant_type=client_credentials&scope=read")
  introspect = wrk.format("POST", oauth2 .. "/introspect", client, "token=" .. os.getenv("SOAK_TOKEN"))
  local base = "/admin/v1/realms/" .. realm
  reads = {}
  for _, path in ipairs({ "/applications?per_page=20", "/users?per_page=20", "/oauth2-provider", "/audit?per_page=20" }) do
    table.insert(reads, wrk.format("GET", base .. path, { ["Authorization"] = admin }))
  end
  verified = index ~= 0
end

local function write()
  local base = "/admin/v1/realms/" .. realm
  if subject == nil then
    cycles = cycles + 1
    kind = (cycles % 10 == 0) and "app" or "user"
    subject = string.format("soak-%s-%d-%d", kind, index, cycles)
    stage = "created"
    wanted = 201
    if kind == "app" then
      local body = string.format('{"client_id":"%s","allowed_scopes":["read"]}', subject)
      return wrk.format("POST", base .. "/applications", json, body)
    end
    return wrk.format("POST", base .. "/users", json, string.format('{"username":"%s"}', subject))
  end
  local path = base .. (kind == "app" and "/applications/" or "/users/") .. subject
  if kind == "user" and stage == "created" then
    stage = "renamed"
    wanted = 200
    return wrk.format("PATCH", path, json, string.format('{"given_name":"renamed %d"}', cycles))
  end
  subject = nil
  wanted = 204
  return wrk.format("DELETE", path, { ["Authorization"] = admin })
end

function request()
  if not verified then
    verified = true
    return token
  end
  step = step + 1
  local what = SCHEDULE[(step - 1) % #SCHEDULE + 1]
  wanted = 200
  if what == "token" then
    return token
  elseif what == "introspect" then
    return introspect
  elseif what == "read" then
    reads_sent = reads_sent + 1
    return reads[(reads_sent - 1) % #reads + 1]
  end
  return write()
end

function response(status, headers, body)
  common.check(status, body, wanted)
end
