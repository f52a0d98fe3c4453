# Takes over the Subscriber model from the statuspage app: the state is created here, the
# tables (statuspage_subscriber and its component links) are the existing ones, untouched.
# The content type moves too, so permissions and admin history stay attached to the model.

import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models

import subscribers.models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="subscribers", model="subscriber").exists():
        ContentType.objects.filter(app_label="statuspage", model="subscriber").update(app_label="subscribers")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="statuspage", model="subscriber").exists():
        ContentType.objects.filter(app_label="subscribers", model="subscriber").update(app_label="statuspage")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("statuspage", "0003_subscriber_moves_to_its_own_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Subscriber",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("email", models.CharField(help_text="Normalised: trimmed, domain in lower case.", max_length=254)),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("confirmed", "Confirmed"), ("unsubscribed", "Unsubscribed")], default="pending", max_length=16)),
                        ("manage_token", models.CharField(default=subscribers.models.new_token, editable=False, max_length=64, unique=True)),
                        ("confirm_token_digest", models.CharField(blank=True, editable=False, max_length=64)),
                        ("confirm_sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        ("unsubscribed_at", models.DateTimeField(blank=True, null=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("components", models.ManyToManyField(blank=True, db_table="statuspage_subscriber_components", help_text="None chosen: every component.", related_name="subscribers", to="statuspage.component")),
                    ],
                    options={
                        "db_table": "statuspage_subscriber",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["status", "id"], name="sp_subscriber_status"), models.Index(fields=["confirm_token_digest"], name="sp_subscriber_confirm")],
                        "constraints": [models.UniqueConstraint(django.db.models.functions.text.Lower("email"), name="sp_subscriber_email_once")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
