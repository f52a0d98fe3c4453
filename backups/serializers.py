from rest_framework import serializers

from backups.models import Backup, BackupVerification


class BackupVerificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackupVerification
        fields = [
            "id",
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


class BackupSerializer(serializers.ModelSerializer):
    last_verification = serializers.SerializerMethodField()

    class Meta:
        model = Backup
        fields = [
            "id",
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
            "last_verification",
        ]

    def get_last_verification(self, backup: Backup) -> BackupVerificationSerializer(allow_null=True):  # type: ignore[valid-type]
        verifications = list(backup.verifications.all())  # prefetched, newest first
        return BackupVerificationSerializer(verifications[0]).data if verifications else None


class BackupStatusSerializer(serializers.Serializer):
    last_verified_backup = serializers.CharField(allow_null=True)
    last_verified_backup_at = serializers.DateTimeField(allow_null=True)
    age_seconds = serializers.IntegerField(allow_null=True)
    max_age_hours = serializers.IntegerField()
    fresh = serializers.BooleanField(help_text="A backup verified within max_age_hours exists.")
    last_backup = BackupSerializer(allow_null=True)
    last_verification = BackupVerificationSerializer(allow_null=True)
