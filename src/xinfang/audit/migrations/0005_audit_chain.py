"""The keyed hash chain of the audit log (issue #7, point 22; audit/chain.py).

Adds each row's place in the chain, the id of the key that signed it and its hash, and the
one-row chain head; then chains the rows already there, in id order.  The append-only triggers of
0003 are set aside while the existing rows get their chain fields and put back at the end (on
SQLite, making ``seq`` NOT NULL rebuilds the table, which drops its triggers anyway).

Needs XINFANG_AUDIT_KEY when the table already has rows (DEBUG falls back to a development key).
"""

import importlib

from django.db import migrations, models


def _triggers():
    return importlib.import_module("xinfang.audit.migrations.0003_immutable")


def drop_triggers(apps, schema_editor):
    _triggers().backwards(apps, schema_editor)


def create_triggers(apps, schema_editor):
    _triggers().forwards(apps, schema_editor)


def chain_rows(apps, schema_editor):
    from xinfang.audit.chain import chain_existing

    chain_existing(apps.get_model("audit", "AuditEvent"), apps.get_model("audit", "AuditChainHead"))


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_audit_indexes")]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("chain_hash", models.CharField(blank=True, default="", max_length=64)),
                ("mac", models.CharField(blank=True, default="", max_length=64)),
            ],
            options={"verbose_name": "审计链头", "verbose_name_plural": "审计链头"},
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True, verbose_name="链序号"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", editable=False, max_length=16, verbose_name="密钥标识"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="链哈希"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="链序号"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
