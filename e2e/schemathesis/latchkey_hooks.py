"""Schemathesis hooks for `cargo xtask schemathesis` (see e2e/README.md).

- Admin calls carry a Bearer token of the root realm's operator client, got by client credentials
  (RFC 6749 §4.4) and renewed every 5 minutes: Latchkey's admin API is protected exactly the way
  operators' automation uses it.
- The run must not lock itself out. Schemathesis follows the links between operations (list the
  realms, then change the one it found), so it would in time disable the root realm, take
  `client_credentials` out of its provider, or disable, rotate or delete the operator client it
  signs in with. Such calls are pointed at a realm or client that does not exist instead (the
  answer is then a 404, which is checked like any other). The same holds for the realm
  `schemathesis` below and its client, which the OAuth2 endpoints are called with. Every other
  call, including deleting the root realm (refused with 409), goes as generated.

- Before the run, the realm `schemathesis` is created with one confidential client
  (LATCHKEY_ST_CLIENT_ID, LATCHKEY_ST_CLIENT_SECRET); schemathesis.toml points the OAuth2
  endpoints at that realm and authenticates them as that client; `tokeninfo`, which takes a
  Bearer token (RFC 6750), gets an access token of that client instead (ClientToken below).
  Most generated requests fail client authentication, so the realm's failure budget is raised
  to its maximum: with the default (10 a minute per address) nearly every call after the first
  ten would be a 429, and the logic behind it would go untested. The 429 itself is tested in
  limits.rs.

- A delete finds something to delete only when the run happened to create it first, so the
  hooks create a realm, an application and a user for it, and point the first positive
  (schema-valid) DELETE of each kind at one of them; later ones go as generated.
- Every answer's status is counted per operation and written, when the run ends, to
  `responses.json` in the working directory (the reports' directory). `cargo xtask
  schemathesis` reads it and fails unless every operation was answered with a success at least
  once: an operation seen only as 401 or 404 would have had its logic go untested.

Settings from the environment: LATCHKEY_ST_URL, LATCHKEY_ST_OPERATOR_ID, LATCHKEY_ST_OPERATOR_SECRET,
LATCHKEY_ST_CLIENT_ID, LATCHKEY_ST_CLIENT_SECRET.
"""

import atexit
import base64
import collections
import json
import os
import urllib.error
import urllib.request

import schemathesis

URL = os.environ["LATCHKEY_ST_URL"]
OPERATOR_ID = os.environ["LATCHKEY_ST_OPERATOR_ID"]
OPERATOR_SECRET = os.environ["LATCHKEY_ST_OPERATOR_SECRET"]
CLIENT_ID = os.environ["LATCHKEY_ST_CLIENT_ID"]
CLIENT_SECRET = os.environ["LATCHKEY_ST_CLIENT_SECRET"]
MUTATING = {"POST", "PATCH", "PUT", "DELETE"}
# The realm the OAuth2 endpoints are called on (schemathesis.toml), with CLIENT_ID.
OAUTH_REALM = "schemathesis"
# The client each guarded realm's access depends on: the operator's, and the OAuth2 endpoints'.
GUARDED = {"root": OPERATOR_ID, OAUTH_REALM: CLIENT_ID}
# Operations on a guarded realm itself that could end the run's access to it.
REALM_GUARDED = {"/admin/v1/realms/{realm}", "/admin/v1/realms/{realm}/oauth2-provider"}
# What the first positive DELETE of each kind is pointed at (see before_call), created before the
# run: a delete that only ever finds nothing (404) would leave its logic untested.
DELETABLE_REALM = "schemathesis-deletable"
DELETABLE = {
    "/admin/v1/realms/{realm}": {"realm": DELETABLE_REALM},
    "/admin/v1/realms/{realm}/applications/{client_id}": {"realm": OAUTH_REALM, "client_id": "deletable-client"},
    "/admin/v1/realms/{realm}/users/{username}": {"realm": OAUTH_REALM, "username": "deletable-user"},
}
# Status codes answered, per operation ("METHOD /path/{template}"): see after_call.
ANSWERS = collections.defaultdict(collections.Counter)


@schemathesis.auth(refresh_interval=300).apply_to(path_regex="^/admin/v1/")
class OperatorToken:
    """An admin token of the root realm's operator client."""

    def get(self, case, ctx):
        return operator_token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.auth(refresh_interval=300).apply_to(path_regex="^/oauth2/realms/[^/]+/tokeninfo$")
class ClientToken:
    """An access token of the `schemathesis` realm's client, for `tokeninfo`."""

    def get(self, case, ctx):
        return access_token(OAUTH_REALM, CLIENT_ID, CLIENT_SECRET, "read")

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    params = case.path_parameters
    if case.method.upper() not in MUTATING or not params:
        return
    if case.method.upper() == "DELETE" and case.path in DELETABLE and case.meta.generation.mode.is_positive:
        params.update(DELETABLE.pop(case.path))
        return
    realm = params.get("realm")
    if realm not in GUARDED:
        return
    if params.get("client_id") == GUARDED[realm]:
        params["client_id"] = "not-the-guarded-client"
    # The root realm may be deleted as generated (it is refused); any other guarded one may not.
    deletes_realm = case.method.upper() == "DELETE" and realm != "root"
    if case.path in REALM_GUARDED and (case.method.upper() == "PATCH" or deletes_realm):
        params["realm"] = "not-a-guarded-realm"


@schemathesis.hook
def after_call(ctx, case, response):
    ANSWERS[f"{case.method.upper()} {case.path}"][response.status_code] += 1


@atexit.register
def write_answers():
    answers = {op: {str(code): n for code, n in sorted(counts.items())} for op, counts in sorted(ANSWERS.items())}
    with open("responses.json", "w") as f:
        json.dump(answers, f, indent=1)


def access_token(realm, client_id, secret, scope):
    """An access token by client credentials (RFC 6749 §4.4) with client_secret_basic."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(
        f"{URL}/oauth2/realms/{realm}/access_token",
        data=f"grant_type=client_credentials&scope={scope}".encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["access_token"]


def operator_token():
    return access_token("root", OPERATOR_ID, OPERATOR_SECRET, "admin")


def admin(method, path, body):
    """One admin call; a 409 (it exists already) counts as done."""
    request = urllib.request.Request(
        f"{URL}/admin/v1{path}",
        method=method,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {operator_token()}", "Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as e:
        if e.code != 409:
            raise


admin("POST", "/realms", {"name": "schemathesis"})
admin(
    "POST",
    "/realms/schemathesis/applications",
    {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_types": ["client_credentials"],
        "allowed_scopes": ["read", "write"],
        "default_scopes": ["read"],
    },
)
admin("PATCH", "/realms/schemathesis/oauth2-provider", {"rate_limits": {"failed_auth": 10_000_000}})
admin("POST", "/realms", {"name": DELETABLE_REALM})
admin(
    "POST",
    f"/realms/{OAUTH_REALM}/applications",
    {"client_id": "deletable-client", "grant_types": ["client_credentials"], "allowed_scopes": ["read"]},
)
admin("POST", f"/realms/{OAUTH_REALM}/users", {"username": "deletable-user"})
