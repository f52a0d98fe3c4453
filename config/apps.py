from django.apps import AppConfig


class VigilConfig(AppConfig):
    """config is an app only to hold the project-wide management commands (demo, seed_demo)."""

    name = "config"
    verbose_name = "Vigil"
