"""Owner-only modes for the SQLite files and the media directory (issue #7 point 24)."""

from __future__ import annotations

import os
import stat

from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from xinfang.core import filemodes


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_0600(tmp_path, django_db_blocker):
    """Even under a permissive umask the database, -wal and -shm files end up owner-only."""
    # given: a permissive umask and the project's SQLite options (WAL)
    name = tmp_path / "site.sqlite3"
    settings_dict = {**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3", "NAME": str(name)}
    if connection.vendor != "sqlite":
        settings_dict["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}
    old_umask = os.umask(0o022)
    try:
        # when
        django_db_blocker.unblock()
        wrapper = DatabaseWrapper(settings_dict, alias="filemodes_test")
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("CREATE TABLE t (x)")
            cursor.execute("INSERT INTO t VALUES (1)")
        wrapper.close()
        wrapper = DatabaseWrapper(settings_dict, alias="filemodes_test")  # a later connection
        wrapper.ensure_connection()
        modes = {p.name: mode(p) for p in filemodes.sqlite_files(str(name)) if p.exists()}
        wrapper.close()
    finally:
        os.umask(old_umask)
        django_db_blocker.restore()
    # then
    assert {"site.sqlite3", "site.sqlite3-wal"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)


def test_media_root_is_tightened_at_startup(tmp_path, settings):
    root = tmp_path / "media"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)  # noqa: S103 (the too-open mode under test)
    settings.MEDIA_ROOT = str(root)
    filemodes.protect_media_root()
    assert mode(root) == 0o700


def test_in_memory_databases_are_left_alone():
    assert filemodes.sqlite_files(":memory:") == []
    assert filemodes.sqlite_files("file:memorydb_default?mode=memory&cache=shared") == []


def test_a_path_the_process_may_not_change_is_logged_not_fatal(tmp_path, monkeypatch, caplog):
    """Owned by another account, chmod fails: the site keeps serving and the log says so."""
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o644)  # noqa: S103 (the too-open mode under test)

    def refuse(*args, **kwargs):
        raise PermissionError("not the owner")

    monkeypatch.setattr(os, "chmod", refuse)
    filemodes.restrict(path, filemodes.FILE_MODE)
    assert "cannot set mode 600" in caplog.text
