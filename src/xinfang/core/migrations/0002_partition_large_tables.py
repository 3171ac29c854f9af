"""Partition the timeline events, the audit log and the staff bell by month (PostgreSQL only).

In ``core`` rather than in each app: the conversion is one mechanism (core/partitions.py) applied
to three tables, and it must run after each app's latest schema of its table, which a migration
of the floor-0 app can depend on without any import between the apps.  SQLite: nothing to do.

Each table is converted in this migration's transaction while held exclusively (a site with
millions of rows is down for the copy: about a minute per ten million timeline rows; plan it).
The reverse leaves the tables partitioned: they work as before, and applying again skips them.
"""

from django.db import migrations


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xinfang.core.partitions import TABLES, convert_table

    with schema_editor.connection.cursor() as cursor:
        for spec in TABLES:
            convert_table(cursor, spec, months_ahead=3)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_counters"),
        ("petitions", "0014_petitioner_id_number_tail_petitioner_name_hash_and_more"),
        ("audit", "0005_audit_chain"),
        ("notifications", "0002_default_templates"),
    ]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
