"""After a Schemathesis run: was every documented operation's logic reached?

Usage: check_answers.py OPENAPI_JSON RESPONSES_JSON

RESPONSES_JSON is what latchkey_hooks.py counted: per operation ("METHOD /path/{template}"), how
often each status code was answered. A run can pass every check and still test little: an
operation that is only ever answered 401 (no credential it accepts) or 404 (nothing it names
exists) never had its own logic run. So every operation of the API description must have been
called, and answered with a success (2xx) at least once, except those listed in NO_SUCCESS and
NOT_CALLED with the reason. Prints one line per operation; exits 1 if any falls short.
"""

import json
import sys

# Operations Schemathesis cannot make succeed, and why. Their success paths are covered by the
# test suite (crates/latchkey-server/tests/api/console.rs).
NO_SUCCESS = {
    "POST /admin/v1/session": "console sign-in takes an administrator's username and password, which the run has no way to know",
    "GET /admin/v1/session": "needs a console session cookie, which only a sign-in sets",
}
# Operations Schemathesis does not call, and why. Their answers are tested by the test suite.
NOT_CALLED = {
    # Schemathesis 4.32.5 selects the other 34 operations, and not this one.
    "GET /admin/v1/openapi.json": "serves the document the run reads (admin::openapi_document tests it)",
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def main(openapi_path, responses_path):
    with open(openapi_path) as f:
        document = json.load(f)
    with open(responses_path) as f:
        answers = json.load(f)
    operations = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    ]
    problems = []
    for operation in operations:
        counts = answers.get(operation, {})
        seen = ", ".join(f"{code}×{n}" for code, n in counts.items()) or "never called"
        succeeded = any(code.startswith("2") for code in counts)
        if operation in NOT_CALLED:
            if counts:
                problems.append(f"{operation}: called, but NOT_CALLED says it is not ({NOT_CALLED[operation]})")
            seen = f"not called: {NOT_CALLED[operation]}"
        elif not counts:
            problems.append(f"{operation}: never called")
        elif operation in NO_SUCCESS:
            if succeeded:
                problems.append(f"{operation}: succeeded, but NO_SUCCESS says it cannot ({NO_SUCCESS[operation]})")
        elif not succeeded:
            problems.append(f"{operation}: never answered with a success; its logic went untested")
        print(f"  {operation}: {seen}")
    # Schemathesis also asks each path with methods it does not document (each must be a 405).
    undocumented = sorted(set(answers) - set(operations))
    statuses = sorted({code for operation in undocumented for code in answers[operation]})
    print(f"  {len(undocumented)} undocumented methods asked, answered {', '.join(statuses) or 'nothing'}")
    stale = sorted((set(NO_SUCCESS) | set(NOT_CALLED)) - set(operations))
    problems += [f"{operation}: named above but not in the API description" for operation in stale]
    if problems:
        print("Schemathesis did not reach every operation's logic:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    called = len(operations) - len(NOT_CALLED)
    print(f"{called} of the {len(operations)} operations called; all but {len(NO_SUCCESS)} succeeded at least once")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
