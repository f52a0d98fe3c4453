"""Fuzz every operation of the live schema (/api/schema/) with Schemathesis, in process (WSGI):
anonymously, as a staff member, and along the links Schemathesis infers between operations
(an id from a list or a create answer, used by the detail operations). Never a 5xx, and every
answer as the schema says (status code, content type, body, headers).

Budget (CI runs the suite in both modes; together the fuzz must stay under 3 minutes). Service
mode (PostgreSQL, the production database: it is the one that refuses NUL characters, offsets
beyond ±15:59 and out-of-range integers) runs the heavy set: 20 generated examples per operation
and 20 stateful runs. Embedded mode runs a light set (5 and 5) so SQLite sees every operation
too. Generation is deterministic (derandomized Hypothesis, no example database): a run passes
or fails the same way every time. Schemathesis' coverage phase (boundary values of every field,
about 6,000 requests) is too slow for CI; run it, with more examples, when hunting:

    VIGIL_FUZZ_EXAMPLES=100 VIGIL_FUZZ_PHASES=examples,coverage,fuzzing python tests/run.py service tests/fuzz

Checks: the five response checks below, and in the stateful runs ensure_resource_availability.
Not used: negative_data_rejection and positive_data_acceptance (they hold validation to the
schema's constraints, which cannot state cross-field rules such as "metric_name or category" or
"one probe per component"), use_after_free (a deleted silence is expired, not deleted, on purpose:
it stays readable), ignored_auth (done directly: the anonymous test expects 401/403 from every
protected operation), unsupported_method and missing_required_header (routing and permissions
have their own tests in tests/config).
"""

import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings

from config.throttling import throttled

SERVICE = os.environ.get("VIGIL_TEST_MODE") == "service"
EXAMPLES = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "20" if SERVICE else "5"))
PHASES = tuple(os.environ.get("VIGIL_FUZZ_PHASES", "examples,fuzzing").split(","))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ensure_resource_availability",  # stateful only: what a POST created, its link finds
)


# Inputs drawn from earlier answers would carry PostgreSQL's ids, which differ from run to run
# (sequences are not rolled back): the draws alone decide the inputs, so a run replays exactly.
NO_FEEDBACK = {"extra-data-sources": {"responses": False}}


def _config(examples: int, phases: tuple[str, ...]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": examples, "deterministic": True, "database": "none"},
            "phases": {
                "examples": {"enabled": "examples" in phases},
                "coverage": {"enabled": "coverage" in phases, **NO_FEEDBACK},
                "fuzzing": {
                    "enabled": "fuzzing" in phases,
                    **NO_FEEDBACK,
                    "error-feedback": {"enabled": False},
                },
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


def _public(ctx) -> bool:
    return ctx.operation.definition.raw.get("security") == []


def _throttled(ctx) -> bool:
    return throttled(ctx.operation.path)


APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/", APP, config=_config(EXAMPLES, PHASES))
# Anonymous calls to a protected operation stop at authentication whatever they carry, and a
# throttled call at the throttle: a few examples show the answer, more would only repeat it.
# (The same document, loaded once.)
protected = schemathesis.openapi.from_dict(schema.raw_schema, config=_config(2, ("examples", "fuzzing")))
protected.app = APP

pytestmark = pytest.mark.django_db

# The WSGI transport does not decode gzip as an HTTP client would (the public JSON is gzipped
# for clients that accept it; tests/statuspage covers that).
PLAIN = {"Accept-Encoding": "identity"}
# The same rows and token serve every example of an operation (hence the suppressed health check).
ONE_WORLD = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go to the real WSGI handler, which closes the database connection after each
    request; that would close the test's transaction too. Django's test client unhooks the same
    handler for the same reason."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _subscribe_freely(settings):
    """The subscribe limits (documented 429s) would otherwise turn most examples into 429s."""
    settings.SUBSCRIBERS_RATE_PER_IP = settings.SUBSCRIBERS_RATE_PER_ADDRESS = 100_000


@schema.include(_public).parametrize()
@ONE_WORLD
def test_public_operations_anonymously(case, world):
    world.aim(case)
    case.call_and_validate(headers=PLAIN)


@protected.exclude(_public).parametrize()
def test_protected_operations_refuse_anonymous_calls(case):
    # No rows needed: nothing gets past authentication (an id that is not a number: no route).
    response = case.call_and_validate(headers=PLAIN)
    assert response.status_code in (401, 403, 404), response.status_code


@protected.include(_throttled).parametrize()
@ONE_WORLD
def test_throttled_operations_answer_429_as_documented(case, settings):
    """The fuzz itself comes from loopback, which is exempt; here it does not, and the limit is 1
    a minute, so the second of two calls is refused (body, status and Retry-After checked)."""
    settings.THROTTLE_EXEMPT_IPS = []
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    elsewhere = {"REMOTE_ADDR": "192.0.2.7"}
    case.call_and_validate(headers=PLAIN, environ_base=elsewhere)
    assert case.call_and_validate(headers=PLAIN, environ_base=elsewhere).status_code == 429


@schema.parametrize()
@ONE_WORLD
def test_every_operation_as_staff(case, world, staff_token):
    world.aim(case)
    case.call_and_validate(headers={**PLAIN, "Authorization": f"Token {staff_token}"})


def test_links_between_operations_as_staff(world, staff_token):
    """Schemathesis' state machine: chains of calls along the inferred links. Each run starts
    from the same rows (a savepoint rolled back after it), so a run replays the same way."""
    headers = {**PLAIN, "Authorization": f"Token {staff_token}"}

    class Links(schema.as_state_machine()):
        def setup(self):
            self.savepoint = transaction.savepoint()
            cache.clear()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": headers}

    Links.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=8,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
