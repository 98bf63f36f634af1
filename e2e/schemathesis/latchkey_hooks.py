"""Schemathesis hooks for `cargo xtask schemathesis` (see e2e/README.md).

- Admin calls carry a Bearer token of the root realm's operator client, got by client credentials
  (RFC 6749 §4.4) and renewed every 5 minutes: Latchkey's admin API is protected exactly the way
  operators' automation uses it.
- The run must not lock itself out. Schemathesis follows the links between operations (list the
  realms, then change the one it found), so it would in time disable the root realm, take
  `client_credentials` out of its provider, or disable, rotate or delete the operator client it
  signs in with. Such calls are pointed at a realm or client that does not exist instead (the
  answer is then a 404, which is checked like any other). Every other call, including deleting
  the root realm (refused with 409), goes as generated.

- Before the run, the realm `schemathesis` is created with one confidential client
  (LATCHKEY_ST_CLIENT_ID, LATCHKEY_ST_CLIENT_SECRET); schemathesis.toml points the OAuth2
  endpoints at that realm and authenticates them as that client (`tokeninfo`, which takes a
  Bearer token, is seen only as 401: an auth class for it had no effect, see SECURITY.md). Most generated requests fail
  client authentication, so the realm's failure budget is raised to its maximum: with the
  default (10 a minute per address) nearly every call after the first ten would be a 429, and
  the logic behind it would go untested. The 429 itself is tested in limits.rs.

Settings from the environment: LATCHKEY_ST_URL, LATCHKEY_ST_OPERATOR_ID, LATCHKEY_ST_OPERATOR_SECRET,
LATCHKEY_ST_CLIENT_ID, LATCHKEY_ST_CLIENT_SECRET.
"""

import base64
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
# Operations on the root realm itself that could end the run's own access.
ROOT_GUARDED = {"/admin/v1/realms/{realm}", "/admin/v1/realms/{realm}/oauth2-provider"}


@schemathesis.auth(refresh_interval=300).apply_to(path_regex="^/admin/v1/")
class OperatorToken:
    """An admin token of the root realm's operator client."""

    def get(self, case, ctx):
        return operator_token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    params = case.path_parameters
    if case.method.upper() not in MUTATING or not params:
        return
    realm = params.get("realm")
    if realm == "root" and params.get("client_id") == OPERATOR_ID:
        params["client_id"] = "not-the-operator"
    if realm == "root" and case.method.upper() == "PATCH" and case.path in ROOT_GUARDED:
        params["realm"] = "not-the-root-realm"


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
