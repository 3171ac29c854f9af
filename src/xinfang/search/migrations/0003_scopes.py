"""The scope tokens of each index row (models.py, ``scopes``), filled from the involvements, and on
PostgreSQL made lexemes of ``document``.

PostgreSQL cannot change a generated column's expression: ``document`` is dropped, the tokens are
written while no generated column has to be recomputed, and ``document`` is added again with them
(one rewrite of the table and one build of the GIN index: 5 minutes at a million petitions —
docs/deployment.md, "Upgrading").  A path's parts are zero-padded (``00000005/``): the tokens are
the ids as numbers (``§5``), as ``indexer.scope_tokens`` writes them.  They are cast with
``array_to_tsvector``, never parsed: ``to_tsvector`` would cut ``§12`` down to ``12``, which a
search for the digits 12 would match."""

import importlib

from django.db import migrations, models

POSTGRES_FILL = """
UPDATE search_petitiontext s SET scopes = x.tokens
FROM (
    SELECT i.petition_id, string_agg(DISTINCT '§' || o.id::bigint, ' ') AS tokens
    FROM petitions_involvement i
    CROSS JOIN LATERAL unnest(string_to_array(trim(both '/' from i.organisation_path), '/')) AS o(id)
    WHERE o.id <> ''
    GROUP BY i.petition_id
) x
WHERE x.petition_id = s.petition_id
"""
POSTGRES = [
    "DROP INDEX IF EXISTS search_document_gin",
    "ALTER TABLE search_petitiontext DROP COLUMN IF EXISTS document",
    POSTGRES_FILL,
    "ALTER TABLE search_petitiontext ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B') || "
    "array_to_tsvector(string_to_array(scopes, ' '))) STORED",
    "CREATE INDEX search_document_gin ON search_petitiontext USING GIN (document)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS search_document_gin",
    "ALTER TABLE search_petitiontext DROP COLUMN IF EXISTS document",
    "ALTER TABLE search_petitiontext ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B')) STORED",
    "CREATE INDEX search_document_gin ON search_petitiontext USING GIN (document)",
]


def sqlite_triggers(apps, schema_editor):
    """Django adds (and removes) a column on SQLite by remaking the table, which drops its
    triggers: the ones keeping FTS5 in step (0002) are made again."""
    if schema_editor.connection.vendor != "sqlite":
        return
    fulltext = importlib.import_module("xinfang.search.migrations.0002_fulltext")
    for sql in fulltext.SQLITE_REVERSE[:3] + fulltext.SQLITE[1:]:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES:
            schema_editor.execute(sql)
        return
    sqlite_triggers(apps, schema_editor)
    # SQLite (a township's database): in Python, a petition at a time (the rule of
    # ``indexer.scope_tokens``, written out: a migration must not change when the code does).
    Involvement = apps.get_model("petitions", "Involvement")
    PetitionText = apps.get_model("search", "PetitionText")
    paths: dict[int, list[str]] = {}
    for pid, path in Involvement.objects.values_list("petition_id", "organisation_path").iterator():
        paths.setdefault(pid, []).append(path)
    for pid, petition_paths in paths.items():
        ids = sorted({int(p) for path in petition_paths for p in path.strip("/").split("/") if p})
        PetitionText.objects.filter(petition_id=pid).update(scopes=" ".join(f"§{i}" for i in ids))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext"), ("petitions", "0014_petitioner_id_number_tail_petitioner_name_hash_and_more")]

    operations = [
        # Reversed last: the triggers again after the column is removed.
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers),
        # The field comes first: the PostgreSQL statements fill it.  Reversed, the generated column
        # is put back without the tokens before the field is dropped.
        migrations.AddField(model_name="petitiontext", name="scopes", field=models.TextField(default="")),
        migrations.RunPython(forwards, backwards),
    ]
