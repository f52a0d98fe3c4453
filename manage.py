#!/usr/bin/env python
"""Django's command-line utility for Vigil."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 -- load settings now, so a bad value is reported plainly
    except ImproperlyConfigured as exc:
        sys.exit(f"vigil: configuration error: {exc}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
