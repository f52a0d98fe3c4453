# The constraint itself has been in the database since 0001 (so no existing row can violate it);
# this only gives forms a readable message. AlterConstraint touches no table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("statuspage", "0003_subscriber_moves_to_its_own_app"),
    ]

    operations = [
        migrations.AlterConstraint(
            model_name="maintenance",
            name="sp_maintenance_ends_after",
            constraint=models.CheckConstraint(
                condition=models.Q(("scheduled_until__gt", models.F("scheduled_for"))),
                name="sp_maintenance_ends_after",
                violation_error_message="The window must end after it starts.",
            ),
        ),
    ]
