import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_seeds_demo_data_idempotently():
    call_command("seed_demo", stdout=io.StringIO())
    users = get_user_model().objects.count()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert get_user_model().objects.count() == users
    assert "already there" in out.getvalue()


def test_it_creates_the_admin_login_once_and_prints_it(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()
    call_command("demo", "--no-start", stdout=first)
    call_command("demo", "--no-start", stdout=second)
    login_line = next(line for line in first.getvalue().splitlines() if "Admin login:" in line)
    password = login_line.split(" / ")[1].strip()
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert login_line in second.getvalue()
