#!/usr/bin/env bash
# Preliminary token-endpoint figure (issue "Performance" will replace this with `cargo xtask bench`):
# release binary, SQLite, one realm, one client, wrk at 16 connections. Usage, from the repo root:
#   cargo build --release -p latchkey-server && bench/token-prelim.sh ES256
set -euo pipefail
rm -rf "${TMPDIR:-/tmp}/latchkey-bench-data"; mkdir -p "${TMPDIR:-/tmp}/latchkey-bench-data"
LATCHKEY_DATA_DIR="${TMPDIR:-/tmp}/latchkey-bench-data" LATCHKEY_BIND=127.0.0.1:8099 LATCHKEY_BOOTSTRAP_CLIENT_ID=op \
LATCHKEY_BOOTSTRAP_CLIENT_SECRET=op-secret-123 RUST_LOG=warn "${LATCHKEY_BIN:-target/release/latchkey}" serve > "${TMPDIR:-/tmp}/latchkey-bench.log" 2>&1 &
PID=$!; trap "kill $PID" EXIT
for i in $(seq 50); do curl -sf http://127.0.0.1:8099/health/ready >/dev/null && break; sleep 0.2; done
B=http://127.0.0.1:8099
T=$(curl -s -u op:op-secret-123 -d grant_type=client_credentials -d scope=admin $B/oauth2/realms/root/access_token | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
adm() { curl -s -H "Authorization: Bearer $T" -H 'Content-Type: application/json' "$@" >/dev/null; }
adm -X POST $B/admin/v1/realms -d '{"name":"bench"}'
adm -X PATCH $B/admin/v1/realms/bench/oauth2-provider -d "{\"signing_alg\":\"$1\",\"rate_limits\":{\"per_client\":0,\"per_address\":0}}"
adm -X POST $B/admin/v1/realms/bench/applications -d '{"client_id":"c","client_secret":"bench-secret-1","grant_types":["client_credentials"],"allowed_scopes":["read"]}'
export BASIC=$(printf 'c:bench-secret-1' | base64)
curl -s -u c:bench-secret-1 -d grant_type=client_credentials -d scope=read $B/oauth2/realms/bench/access_token | head -c 80; echo
wrk -t2 -c16 -d5s -s bench/token.lua $B/oauth2/realms/bench/access_token > /dev/null  # warm-up
wrk -t2 -c16 -d15s --latency -s bench/token.lua $B/oauth2/realms/bench/access_token | grep -E "Requests/sec|50%|99%|Non-2xx"
