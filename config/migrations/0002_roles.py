"""Create the role groups (Viewers, Operators, Administrators); config/roles.py says what each
may do. Later models join through post_migrate and `manage.py sync_roles`."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from config.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("healthchecks", "0001_initial"),
        ("monitoring", "0001_initial"),
        ("notifications", "0001_initial"),
        ("alerts", "0002_default_rules"),
        ("statuspage", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
