"""The console's backups pages: read-only history (rows are written by backups.services only),
the last verified backup's age on top of the list, and an action that verifies a backup again."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.timesince import timesince

from backups.models import Backup, BackupVerification
from backups.services import backup_status


def _status_message(request, model_admin) -> None:
    status = backup_status()
    if status["last_verified_backup_at"] is None:
        model_admin.message_user(request, "No backup has been verified yet.", messages.WARNING)
        return
    text = (
        f"Last verified backup: {status['last_verified_backup']}, taken "
        f"{timesince(status['last_verified_backup_at'])} ago "
        f"(an alert is raised past {status['max_age_hours']} h)."
    )
    model_admin.message_user(request, text, messages.SUCCESS if status["fresh"] else messages.ERROR)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            _status_message(request, self)
        return super().changelist_view(request, extra_context)


class VerificationInline(admin.TabularInline):
    model = BackupVerification
    fields = ["started_at", "finished_at", "result", "error"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-started_at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Backup)
class BackupAdmin(ReadOnly):
    list_display = ["__str__", "status", "engine", "size_bytes", "started_at", "duration", "last_result"]
    list_filter = ["status", "engine"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = [
        "status",
        "engine",
        "file_name",
        "size_bytes",
        "sha256",
        "table_counts",
        "error",
        "started_at",
        "finished_at",
        "pruned_at",
    ]
    inlines = [VerificationInline]
    actions = ["verify_again"]

    @admin.display(description="Last verification")
    def last_result(self, backup: Backup) -> str:
        verification = backup.verifications.order_by("-started_at").first()
        return verification.get_result_display() if verification else "-"

    def has_verify_permission(self, request) -> bool:
        return request.user.has_perm("backups.change_backup")

    @admin.action(description="Verify the selected backups again (on a worker)", permissions=["verify"])
    def verify_again(self, request, queryset):
        from backups.tasks import verify

        ids = list(
            queryset.filter(status=Backup.Status.COMPLETE, pruned_at=None).values_list("pk", flat=True)
        )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: verify.delay(pk))
        self.message_user(request, f"{len(ids)} verification(s) queued; their results appear below.")


@admin.register(BackupVerification)
class BackupVerificationAdmin(ReadOnly):
    list_display = ["file_name", "result", "backup_taken_at", "started_at", "finished_at"]
    list_filter = ["result"]
    search_fields = ["file_name", "error"]
    list_select_related = ["backup"]
    readonly_fields = [
        "backup",
        "file_name",
        "backup_taken_at",
        "result",
        "counts_expected",
        "counts_found",
        "migrations_pending",
        "error",
        "started_at",
        "finished_at",
    ]
