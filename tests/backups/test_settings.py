import os

import pytest

from tests.conftest import run_manage


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BACKUP_MAX_AGE_HOURS", "2", "BACKUP_MAX_AGE_HOURS must be at least 3"),
        ("BACKUP_RETENTION_DAYS", "a month", "BACKUP_RETENTION_DAYS must be a whole number"),
        ("BACKUP_TIMEOUT", "0", "BACKUP_TIMEOUT must be at least 10"),
    ],
)
def test_it_refuses_a_bad_backup_setting_naming_the_variable(variable, value, message):
    result = run_manage("check", env={variable: value})
    assert (result.returncode != 0, message in result.stderr) == (True, True), result.stderr


def test_it_refuses_the_data_folder_itself_as_the_backup_folder():
    result = run_manage("check", env={"BACKUP_DIR": os.environ["VIGIL_DATA_DIR"]})
    assert "BACKUP_DIR must be a folder of its own" in result.stderr
