"""``xinfang backup`` of a demo site while another process keeps writing, and ``xinfang restore``
into another database and storage (issue #7 point 34).

The sites are real: each is its own database (an SQLite file, or a PostgreSQL database when the
suite runs on PostgreSQL) with its own media directory, driven by the ``xinfang`` command in
subprocesses with the same keys, as an operator would.  The restored copy must be a consistent
instant of the source: every table's count as in the manifest, every attachment decrypting to
its checksum, the audit chain intact and a prefix of the source's, whole transactions only, the
personal data decrypting to the same values; and the backup file holds none of the keys.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

from xinfang.core.backup import open_backup

HERE = Path(__file__).resolve().parent
PASSPHRASE = "correct horse battery staple 2026"


@dataclass
class Site:
    """One installation: its environment (database, media, keys) and a way to run commands."""

    env: dict[str, str]
    root: Path

    def run(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{args} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def xinfang(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("-m", "xinfang.cli", *args, check=check)

    def inspect(self) -> dict:
        return json.loads(self.run(str(HERE / "inspect_site.py")).stdout)


KEYS = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "XINFANG_FIELD_KEYS": Fernet.generate_key().decode(),
    "XINFANG_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    "XINFANG_AUDIT_KEY": secrets.token_urlsafe(32),
}


def make_site(root: Path, database_url: str) -> Site:
    root.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "XINFANG_", "DJANGO_"))},
        **KEYS,
        "DJANGO_SETTINGS_MODULE": "xinfang.settings",
        "XINFANG_ENV_FILE": "/dev/null",
        "DEBUG": "1",  # the demo accounts exist only in DEBUG
        "DATABASE_URL": database_url,
        "XINFANG_VAR_DIR": str(root / "var"),
        "MEDIA_ROOT": str(root / "media"),
        "CACHE_URL": "locmemcache://",
    }
    return Site(env, root)


@pytest.fixture
def databases(tmp_path, django_db_blocker):
    """Two empty databases of the suite's own kind: the source site's and the restore target's."""
    if connection.vendor == "sqlite":
        yield [f"sqlite:///{tmp_path / name / 'var' / 'db.sqlite3'}" for name in ("source", "target")]
        return
    base = settings.DATABASES["default"]
    names = [f"{base['NAME']}_backup_{role}" for role in ("source", "target")]
    with django_db_blocker.unblock():
        params = {**connection.get_connection_params(), "dbname": "postgres"}  # the maintenance database
        raw = connection.get_new_connection(params)
        raw.autocommit = True
        with raw.cursor() as cursor:
            for name in names:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
    auth = base["USER"] + (f":{base['PASSWORD']}" if base.get("PASSWORD") else "")
    yield [f"postgres://{auth}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/{name}" for name in names]
    with django_db_blocker.unblock(), raw.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    raw.close()


def wait_for(progress: Path, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = int(progress.read_text() or 0) if progress.exists() else 0
        if done >= at_least:
            return done
        time.sleep(0.05)
    raise AssertionError(f"the load made no progress ({progress})")


def test_backup_of_a_site_under_load_restores_elsewhere(tmp_path, databases):
    # given a demo site, migrated and seeded, and a process that keeps registering petitions
    source = make_site(tmp_path / "source", databases[0])
    (source.root / "var").mkdir()
    source.xinfang("migrate", "-v0")
    source.xinfang("seed", "--demo", "--petitions", "10")
    stop, progress = tmp_path / "stop", tmp_path / "progress"
    load = subprocess.Popen(  # noqa: S603
        [sys.executable, str(HERE / "load.py"), str(stop), str(progress)],
        env=source.env,
        cwd=source.root,
        stderr=subprocess.PIPE,
        text=True,
    )
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    backup = tmp_path / "site.xfbak"
    try:
        before = wait_for(progress, 3)
        # when it is backed up while the writes go on
        done = source.xinfang("backup", str(backup), "--passphrase-file", str(passphrase_file))
        during = wait_for(progress, 0)
        wait_for(progress, during + 3)  # and the writes carry on after the snapshot
    finally:
        stop.touch()
        _, errors = load.communicate(timeout=120)
    assert load.returncode == 0, errors
    assert during > before, "no petition was written while the backup ran"
    assert "backup written" in done.stdout

    # and restored into another, empty database and media directory with the same keys
    target = make_site(tmp_path / "target", databases[1])
    (target.root / "var").mkdir()
    restored_run = target.xinfang("restore", str(backup), "--passphrase-file", str(passphrase_file))

    # then the restore verified counts, checksums and the audit chain itself …
    assert "counts and checksums match" in restored_run.stdout
    assert "审计链完整" in restored_run.stdout, restored_run.stdout
    assert target.xinfang("audit", "verify").returncode == 0
    # … and the copy is one consistent instant of the source
    original, restored = source.inspect(), target.inspect()
    assert 10 < len(restored["petitioners"]) < len(original["petitioners"])
    for number, people in restored["petitioners"].items():  # personal data decrypts the same
        assert original["petitioners"][number] == people
    assert restored["attachments"] and all(ok for _number, ok in restored["attachments"].values())
    assert all(original["attachments"][name] == value for name, value in restored["attachments"].items())
    assert restored["audit"] == original["audit"][: len(restored["audit"])]  # a prefix of the chain
    assert restored["load"] and all(v == [True, 1] for v in restored["load"].values())  # whole transactions
    # the backup holds no key and no plaintext
    raw = backup.read_bytes()
    assert "备份负载测试".encode() not in raw
    with backup.open("rb") as handle, open_backup(handle, PASSPHRASE) as stream:
        plain = stream.read()
    assert b"manifest.json" in plain
    if connection.vendor == "sqlite":  # (pg_dump's custom format compresses the rows)
        assert "备份负载测试".encode() in plain
    for name, key in KEYS.items():
        assert key.encode() not in plain, name
    assert oct(backup.stat().st_mode & 0o777) == oct(0o600)

    # a second restore over the restored site is refused (two histories would mix) …
    again = target.xinfang("restore", str(backup), "--passphrase-file", str(passphrase_file), check=False)
    assert again.returncode != 0 and "not empty" in again.stderr
    # … as is a wrong passphrase; --check verifies the file without restoring
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase of this backup")
    refused = target.xinfang("restore", str(backup), "--check", "--passphrase-file", str(wrong), check=False)
    assert refused.returncode != 0 and "wrong backup passphrase" in refused.stderr
    checked = target.xinfang("restore", str(backup), "--check", "--passphrase-file", str(passphrase_file))
    assert "backup intact" in checked.stdout
