"""GET /api/operations/backups (newest first), GET .../backups/status (the last verified
backup's age), POST /api/operations/backups (queue a backup and its verification)."""

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from backups.models import Backup, BackupVerification
from backups.serializers import BackupSerializer, BackupStatusSerializer
from backups.services import backup_status


class BackupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Backup.objects.prefetch_related(
        Prefetch("verifications", queryset=BackupVerification.objects.order_by("-started_at", "-pk"))
    )
    serializer_class = BackupSerializer
    filterset_fields = ["status", "engine"]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                inline_serializer("BackupQueued", {"detail": serializers.CharField()}),
                description="A backup, then its verification, runs on a worker.",
            )
        },
    )
    def create(self, request):
        from backups.tasks import backup

        transaction.on_commit(lambda: backup.delay(force=True))
        return Response(
            {"detail": "Backup queued: a worker backs up, then verifies it."}, http.HTTP_202_ACCEPTED
        )

    @extend_schema(responses=BackupStatusSerializer)
    @action(detail=False, methods=["get"])
    def status(self, request):
        return Response(BackupStatusSerializer(backup_status()).data)
