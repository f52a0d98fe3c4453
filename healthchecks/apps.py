from django.apps import AppConfig


class HealthchecksConfig(AppConfig):
    name = "healthchecks"
    verbose_name = "Health checks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from healthchecks.pings.buffer import buffer_forget
        from healthchecks.pings.models import Check

        def forget_deleted_check(sender, instance, **kwargs) -> None:
            # However a check is deleted (admin, API, cascade), its key stops being buffered.
            buffer_forget([instance.ping_key])

        post_delete.connect(forget_deleted_check, sender=Check, weak=False, dispatch_uid="ping-buffer-forget")
