"""The database's own full-text index over ``PetitionText`` (models.py says why each shape).

SQLite: an FTS5 table with external content (the tokens are stored once, in search_petitiontext)
kept in step by triggers, so every write to the index row updates FTS5 in the same transaction.
PostgreSQL: a stored generated tsvector (title weight A, the rest B, configuration ``simple``:
the text is already segmented) with a GIN index."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_petitiontext', "
    "content_rowid='petition_id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_fts_ai AFTER INSERT ON search_petitiontext BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.petition_id, new.title, new.body); END",
    "CREATE TRIGGER search_fts_ad AFTER DELETE ON search_petitiontext BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.petition_id, old.title, old.body); END",
    "CREATE TRIGGER search_fts_au AFTER UPDATE ON search_petitiontext BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.petition_id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.petition_id, new.title, new.body); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_fts_au",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES = [
    "ALTER TABLE search_petitiontext ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B')) STORED",
    "CREATE INDEX search_document_gin ON search_petitiontext USING GIN (document)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS search_document_gin",
    "ALTER TABLE search_petitiontext DROP COLUMN IF EXISTS document",
]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
