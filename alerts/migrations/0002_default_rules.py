from django.db import migrations


def create_default_rules(apps, schema_editor):
    from alerts.defaults import default_rules_create

    default_rules_create(apps.get_model("alerts", "AlertRule"))


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(create_default_rules, migrations.RunPython.noop)]
