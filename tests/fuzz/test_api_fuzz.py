"""Fuzz every operation of the live schema (/api/schema/) with Schemathesis, in process (WSGI),
anonymously and as a staff member: never a 5xx, and every answer as the schema says (status
code, content type, body, headers).

Budget (CI runs the suite twice): service mode (PostgreSQL: the production database, the one
that refuses NUL bytes and out-of-range integers) runs the heavy set: all three generation phases
and VIGIL_FUZZ_EXAMPLES (default 12) fuzzed examples per operation. Embedded mode runs a light set
(explicit examples and 4 fuzzed examples, no coverage phase) so both databases see every
operation. Generation is deterministic (derandomized Hypothesis, no example database): a run
fails or passes the same way every time. To hunt for bugs, raise the numbers:

    VIGIL_FUZZ_EXAMPLES=100 python tests/run.py service tests/fuzz

Checks: the five Schemathesis response checks. Not used: negative_data_rejection and
positive_data_acceptance (they judge validation against the schema's constraints, which cannot
express cross-field rules such as "metric_name or category"), use_after_free and
ensure_resource_availability (stateful, need links the schema has none of), ignored_auth (run
here directly: the anonymous test expects 401/403 from every protected operation),
unsupported_method and missing_required_header (covered by the permission and routing tests).
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

SERVICE = os.environ.get("VIGIL_TEST_MODE") == "service"
EXAMPLES = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "12" if SERVICE else "4"))
PHASES = tuple(
    os.environ.get("VIGIL_FUZZ_PHASES", "examples,coverage,fuzzing" if SERVICE else "examples,fuzzing").split(
        ","
    )
)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


def _config(examples: int, phases: tuple[str, ...]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": examples, "deterministic": True, "database": "none"},
            "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing")},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


def _public(ctx) -> bool:
    return ctx.operation.definition.raw.get("security") == []


APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/", APP, config=_config(EXAMPLES, PHASES))
# Anonymous calls to a protected operation stop at authentication whatever they carry: a few
# examples show the 401/403, more would only repeat it. (The same document, loaded once.)
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
@ONE_WORLD
def test_protected_operations_refuse_anonymous_calls(case, world):
    world.aim(case)
    response = case.call_and_validate(headers=PLAIN)
    assert response.status_code in (401, 403, 404), response.status_code  # 404: an id that is no route


@schema.parametrize()
@ONE_WORLD
def test_every_operation_as_staff(case, world, staff_token):
    world.aim(case)
    case.call_and_validate(headers={**PLAIN, "Authorization": f"Token {staff_token}"})
