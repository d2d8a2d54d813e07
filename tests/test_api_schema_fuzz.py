"""Every operation of the NGC API's OpenAPI schema (`/api/schema/`, drf-spectacular), fed inputs
that schemathesis generates from it, valid and invalid, through live gunicorn as the org owner:
none answers a 5xx. Generation is derandomized (a run is repeatable) and bounded (ROUNDS within
BUDGET_SECONDS); an operation schemathesis cannot load fails the test rather than being skipped,
and every operation is called at least once with valid and once with invalid input."""
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from accounts import tokens

pytestmark = [pytest.mark.django_db(transaction=True)]

# Every operation gets one valid and one invalid input whatever the time; then a couple more of each
# while the run is under BUDGET_SECONDS (about 280 calls take 25 s on an idle 2-core machine).
ROUNDS = [
    (schemathesis.GenerationMode.POSITIVE, 1, True),
    (schemathesis.GenerationMode.NEGATIVE, 1, True),
    (schemathesis.GenerationMode.POSITIVE, 2, False),
    (schemathesis.GenerationMode.NEGATIVE, 2, False),
]
BUDGET_SECONDS = 30
# Path parameters pinned to the personas' org and team, so generated calls reach the views' input
# handling instead of stopping at "org not found"; everything else is generated.
PINNED = {"org": "acme", "team": "alpha"}


def test_no_operation_of_the_api_schema_answers_a_server_error(personas, live_server_https):
    http = live_server_https.session()
    base = live_server_https.url
    token, _ = tokens.issue_access_token(user_id=personas.owner.pk, audience="ngc", scopes=[])
    auth = {"Authorization": f"Bearer {token}"}
    document = http.get(f"{base}/api/schema/?format=json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]  # an Err raises: no silent skip
    assert len(operations) >= 100
    # Deletions after everything else, so what they remove (the pinned team) hides no other operation.
    deletions = [operation for operation in operations if operation.method.upper() == "DELETE"]
    groups = [[operation for operation in operations if operation not in deletions], deletions]

    server_errors, unviolable, calls = [], [], 0
    started = time.monotonic()
    for group, (mode, examples, required) in ((group, round_) for group in groups for round_ in ROUNDS):
        for operation in group:
            if not required and time.monotonic() - started > BUDGET_SECONDS:
                break
            names = {parameter.name for parameter in operation.path_parameters}
            pinned = {name: value for name, value in PINNED.items() if name in names}

            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned))
            @settings(
                max_examples=examples, derandomize=True, database=None, deadline=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
            )
            def call(case):
                nonlocal calls
                response = case.call(base_url=base, session=http, headers=auth, timeout=60, verify=live_server_https.ca_bundle)
                calls += 1
                if response.status_code >= 500:
                    server_errors.append(f"{response.status_code} {case.method} {response.request.url}: {response.text[:300]}")

            try:
                call()
            except Unsatisfiable:
                # Nothing in this operation's schema can be violated (no parameters, no body): its
                # positive examples are all there is to send.
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
                unviolable.append(operation.label)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations, {calls} calls, {elapsed:.1f} s; no invalid input for {unviolable}")
    assert calls >= 2 * len(operations) - len(unviolable)
    assert server_errors == []
