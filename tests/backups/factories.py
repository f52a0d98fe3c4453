import factory
from django.utils import timezone

from backups.models import Backup, BackupVerification


class BackupFactory(factory.django.DjangoModelFactory):
    """A recorded backup without a file (the tests that need a file call backup_create)."""

    class Meta:
        model = Backup

    status = Backup.Status.COMPLETE
    engine = Backup.Engine.SQLITE
    file_name = factory.Sequence(lambda n: f"vigil-20260101T000000Z-{n}.sqlite3")
    size_bytes = 4096
    sha256 = "0" * 64
    table_counts = factory.LazyFunction(lambda: {"statuspage_component": 1})
    finished_at = factory.LazyFunction(timezone.now)


class BackupVerificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupVerification

    backup = factory.SubFactory(BackupFactory)
    file_name = factory.SelfAttribute("backup.file_name")
    backup_taken_at = factory.SelfAttribute("backup.started_at")
    result = BackupVerification.Result.PASSED
    counts_expected = factory.SelfAttribute("backup.table_counts")
    counts_found = factory.SelfAttribute("backup.table_counts")
    finished_at = factory.LazyFunction(timezone.now)
