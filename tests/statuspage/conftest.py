import pytest

from statuspage import cache as page_cache


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """The per-process layer outlives a test; each test starts without it."""
    page_cache._local.generation = None
    page_cache._local.pages = {}
    yield
    page_cache._local.generation = None
    page_cache._local.pages = {}


@pytest.fixture
def operator(django_user_model):
    """A staff member with every status-page permission (what a role group will grant)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("op", "op@example.com", "pw-op-12345", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="statuspage"))
    return user


@pytest.fixture
def operator_client(operator):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(operator)
    return client
