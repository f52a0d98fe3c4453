"""Rollups keep a quantile sketch instead of one p95, and gain per-name rows.

Existing rows have no sketch. The rollup cursors are cleared so the next runs rebuild every
bucket that still has raw points (their sketches included), a span per run; until they have
caught up, charts read raw points. Per-name rows are seeded from the per-series rows, so buckets
older than the raw points keep their counts, averages, minima and maxima (without percentiles).
"""

from django.db import migrations, models


def seed_name_rollups(apps, schema_editor):
    for series, names in (("minuterollup", "minutenamerollup"), ("hourrollup", "hournamerollup")):
        table, name_table = f"monitoring_{series}", f"monitoring_{names}"
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {name_table} (name, bucket_start, count, total, minimum, maximum, sketch) "
                f"SELECT name, bucket_start, SUM(count), SUM(total), MIN(minimum), MAX(maximum), %s "
                f"FROM {table} GROUP BY name, bucket_start",
                [b""],
            )
    apps.get_model("monitoring", "RollupCursor").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0003_metric_partitions'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='hourrollup',
            name='p95',
        ),
        migrations.RemoveField(
            model_name='minuterollup',
            name='p95',
        ),
        migrations.AddField(
            model_name='hourrollup',
            name='sketch',
            field=models.BinaryField(default=b'', help_text='Point counts per logarithmic bin.'),
        ),
        migrations.AddField(
            model_name='minuterollup',
            name='sketch',
            field=models.BinaryField(default=b'', help_text='Point counts per logarithmic bin.'),
        ),
        migrations.CreateModel(
            name='HourNameRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('bucket_start', models.DateTimeField()),
                ('count', models.PositiveBigIntegerField()),
                ('total', models.FloatField(help_text='Sum of the values, so averages merge exactly.')),
                ('minimum', models.FloatField()),
                ('maximum', models.FloatField()),
                ('sketch', models.BinaryField(default=b'', help_text='Point counts per logarithmic bin.')),
                ('name', models.CharField(max_length=200)),
            ],
            options={
                'indexes': [models.Index(fields=['bucket_start'], name='hour_name_rollup_time')],
                'constraints': [models.UniqueConstraint(fields=('name', 'bucket_start'), name='hour_name_rollup_unique')],
            },
        ),
        migrations.CreateModel(
            name='MinuteNameRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('bucket_start', models.DateTimeField()),
                ('count', models.PositiveBigIntegerField()),
                ('total', models.FloatField(help_text='Sum of the values, so averages merge exactly.')),
                ('minimum', models.FloatField()),
                ('maximum', models.FloatField()),
                ('sketch', models.BinaryField(default=b'', help_text='Point counts per logarithmic bin.')),
                ('name', models.CharField(max_length=200)),
            ],
            options={
                'indexes': [models.Index(fields=['bucket_start'], name='minute_name_rollup_time')],
                'constraints': [models.UniqueConstraint(fields=('name', 'bucket_start'), name='minute_name_rollup_unique')],
            },
        ),
        migrations.RunPython(seed_name_rollups, migrations.RunPython.noop),
    ]
