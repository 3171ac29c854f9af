"""Look-up of petitions by petitioner (issue #12 §1): the keyed hash of the normalised name and
the ID number's last four characters, with their indexes, filled in for the existing rows in
batches (the tail is read from the mask, which shows it, so nothing is decrypted)."""

import unicodedata

from django.db import migrations, models

BATCH = 2000


def backfill(apps, schema_editor):
    from xinfang.core.crypto import blind_index

    Petitioner = apps.get_model("petitions", "Petitioner")
    last = 0
    while True:
        page = Petitioner.objects.filter(pk__gt=last).order_by("pk").only("id", "name", "id_number_mask")
        rows = list(page[:BATCH])
        if not rows:
            return
        for row in rows:
            normal = "".join(unicodedata.normalize("NFKC", row.name or "").split()).lower()
            row.name_hash = blind_index(normal, purpose="name") if normal else None
            mask = row.id_number_mask or ""
            row.id_number_tail = mask[-4:].upper() if len(mask) > 8 else ""
        Petitioner.objects.bulk_update(rows, ["name_hash", "id_number_tail"])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0013_exchange_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="petitioner",
            name="id_number_tail",
            field=models.CharField(blank=True, default="", editable=False, max_length=4),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="name_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name="petitioner",
            index=models.Index(fields=["name_hash"], name="petitioner_name_hash_idx"),
        ),
        migrations.AddIndex(
            model_name="petitioner",
            index=models.Index(
                condition=models.Q(("id_number_tail", ""), _negated=True),
                fields=["id_number_tail"],
                name="petitioner_id_tail_idx",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
