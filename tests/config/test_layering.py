"""The layering contracts of pyproject.toml fail on an import that points up, naming its line."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "core",
    "notifications",
    "monitoring",
    "subscribers",
    "oncall",
    "statuspage",
    "alerts",
    "healthchecks",
    "backups",
    "reports",
    "config",
)
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _copy_of_the_project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)},
    )


def test_it_keeps_the_layering_of_the_code_as_it_is():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout


def test_it_fails_on_an_import_that_points_up(tmp_path):
    project = _copy_of_the_project(tmp_path)
    with (project / "notifications" / "models.py").open("a") as models:
        models.write("\nfrom alerts.models import Alert  # noqa\n")
    result = _lint(project)
    assert result.returncode == 1
    assert "notifications.models -> alerts.models (l." in result.stdout


def test_it_fails_on_an_app_importing_config(tmp_path):
    project = _copy_of_the_project(tmp_path)
    with (project / "core" / "api.py").open("a") as api:
        api.write("\nfrom config import settings  # noqa\n")
    result = _lint(project)
    assert result.returncode == 1 and "core.api -> config.settings" in result.stdout
