"""Set up a demo and run it: migrate, static files, demo data, an admin login, then the Procfile."""

import os
import secrets
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Migrate, load demo data, create the admin login and start web, worker and beat (honcho)."

    def add_arguments(self, parser):
        parser.add_argument("--no-start", action="store_true", help="Set up only; do not start the Procfile.")

    def handle(self, *args, no_start=False, **options):
        # Variables for the Procfile's processes only, never this process's own environment.
        self.procfile_env: dict[str, str] = {}
        self.step("Applying database migrations")
        call_command("migrate", interactive=False, verbosity=0)
        self.step("Collecting static files")
        call_command("collectstatic", interactive=False, verbosity=0)
        self.step("Setting up roles (Viewers, Operators, Administrators)")
        call_command("sync_roles", stdout=self.stdout)
        self.step("Loading demo data")
        call_command("seed_demo", stdout=self.stdout)
        password = self.ensure_admin()
        url = "http://127.0.0.1:8000"
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"Vigil is ready: {url}/  (status page)   {url}/admin/  (console)")
        )
        self.stdout.write(self.style.SUCCESS(f"Admin login: {ADMIN_USERNAME} / {password}"))
        self.stdout.write(self.style.SUCCESS(f"Mail (confirmation links and all): {self.mail_folder()}"))
        self.stdout.write("")
        if not no_start:
            self.start_procfile()

    def mail_folder(self) -> str:
        """Where the demo's processes write mail. The console backend's mail goes through the
        logs, whose filter hides the tokens in subscriber links (config/redact.py), so a demo
        subscriber could never confirm: without an EMAIL_URL the demo writes one file per
        message instead, and the logs keep hiding tokens."""
        if "EMAIL_URL" in os.environ:
            return f"sent as EMAIL_URL says ({settings.EMAIL_BACKEND})"
        folder = Path(settings.DATA_DIR) / "mail"
        folder.mkdir(exist_ok=True)
        self.procfile_env["EMAIL_URL"] = f"filemail://{folder}"
        return f"{folder}/ (one file per message)"

    def step(self, message: str) -> None:
        self.stdout.write(f"==> {message}")

    def ensure_admin(self) -> str:
        """Create the admin user once, with a random password kept in the data folder."""
        password_file = Path(settings.DATA_DIR) / "admin_password"
        User = get_user_model()
        user = User.objects.filter(username=ADMIN_USERNAME).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", password)
            password_file.write_text(password)
            password_file.chmod(0o600)
            return password
        if password_file.exists() and user.check_password(password_file.read_text().strip()):
            return password_file.read_text().strip()
        return "(changed since set-up; reset it with: python manage.py changepassword admin)"

    def start_procfile(self) -> None:
        bin_dir = Path(sys.executable).parent
        # The Procfile's commands (python, celery) live beside this Python.
        env = {
            **os.environ,
            **self.procfile_env,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self.step("Starting web, worker and beat (Ctrl-C stops them)")
        sys.stdout.flush()
        os.chdir(settings.BASE_DIR)
        # honcho, with time for the worker to stop by itself (config/procfile.py).
        procfile = str(settings.BASE_DIR / "Procfile")
        os.execve(sys.executable, [sys.executable, "-m", "config.procfile", procfile], env)
