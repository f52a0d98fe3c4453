"""Every staff page, read once (there are about a hundred, and each costs a request): each has the
security headers and no inline code (test_headers.py), and every form on it that posts with the
staff's session carries a CSRF token and is refused without one (test_csrf.py)."""

import os

import pytest
from django.test import Client

from tests.config.factories import role_user
from tests.security.pages import post_forms, staff_pages
from tests.security.test_headers import check_page

pytestmark = [
    pytest.mark.django_db,
    # Headers, templates and CSRF do not depend on the database; one run of ~100 pages is enough.
    pytest.mark.skipif(
        os.environ.get("VIGIL_TEST_MODE") == "service",
        reason="templates and headers: checked in embedded mode",
    ),
]


def test_it_protects_every_staff_page_and_form(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("superuser"))
    problems, forms = [], {}
    for page in staff_pages():
        response = client.get(page)
        problems += check_page(response, page)
        if response.status_code != 200:
            continue  # a one-row table's changelist redirects, a read-only add page is refused
        for action, names in post_forms(page, response.content.decode()):
            forms.setdefault(action, (page, names))
    assert not problems, problems
    assert len(forms) > 50  # every model's add, change, delete and action forms, and the dashboard's
    missing = [
        f"{action} (on {page})"
        for action, (page, names) in forms.items()
        if "csrfmiddlewaretoken" not in names
    ]
    assert not missing, missing
    accepted = [action for action in forms if client.post(action, {}).status_code != 403]
    assert not accepted, f"posted without a CSRF token and not refused: {accepted}"
