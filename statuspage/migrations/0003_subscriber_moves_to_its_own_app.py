# Subscribers moved to the `subscribers` app. Only Django's record of the model moves; the
# tables stay where they are, with their data (subscribers.0001 takes the model over).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("statuspage", "0002_subscribers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Subscriber")],
            database_operations=[],
        ),
    ]
