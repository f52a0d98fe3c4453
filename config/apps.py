from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    # Like Django's own create_permissions: runs after every migrate, so a model that an app
    # adds later joins the roles without anyone remembering to run sync_roles.
    from config.roles import sync_roles

    sync_roles()


class VigilConfig(AppConfig):
    """config holds the project-wide commands (demo, seed_demo, sync_roles) and the operations
    console: dashboard, roles, audit log, run-time config, API schema."""

    name = "config"
    verbose_name = "Vigil console"

    def ready(self) -> None:
        from config import schema_extensions  # noqa: F401  (registers the schema annotations)
        from config.audit import connect_audit_hooks

        connect_audit_hooks()
        # post_migrate is sent once per app; listening to ours alone is enough, since
        # sync_roles creates the permissions of every app before it sets the groups.
        post_migrate.connect(_sync_roles_after_migrate, sender=self, dispatch_uid="vigil-sync-roles")
