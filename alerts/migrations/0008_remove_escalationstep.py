from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0007_escalation_policies")]

    operations = [migrations.DeleteModel(name="EscalationStep")]
