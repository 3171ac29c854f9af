"""Backup and restore of a whole site (issue #7 point 34; docs/security.md §6, docs/deployment.md).

``xinfang backup`` writes one encrypted file holding everything needed to bring a site back:

* the database, as a consistent snapshot taken while the site runs: SQLite through its online
  backup API, PostgreSQL through ``pg_dump --snapshot`` of an exported REPEATABLE READ snapshot;
* every stored file that a row of that snapshot names (attachments: ``ENCRYPTED_FILE_FIELDS``),
  as stored, i.e. still encrypted under the field keys.  The list comes from the snapshot, so a
  file written after it is left out together with its row, and no row lacks its file;
* ``manifest.json`` (last): the row count of every table, the size and SHA-256 of every member,
  the key ids (never the keys) the files are under, the applied migrations.

The archive is a tar stream sealed with the framed AES-256-GCM format of ``core.crypto`` under a
key derived with scrypt from a **backup passphrase** given to the command, never from the field
keys: the keys (SECRET_KEY, XINFANG_FIELD_KEYS, XINFANG_BLIND_INDEX_KEY, XINFANG_AUDIT_KEY) are not
in the backup and are kept apart by the operator.  Header::

    MAGIC "XFBAK\\x01" (6) | scrypt salt (16) | log2 N (1) | r (1) | p (1) | 0 (1) | chunk size (4)

``xinfang restore`` decrypts the archive into a private directory, checks every member against
the manifest, refuses a target that is not empty, loads the database and the files, and verifies
the result: the counts and checksums again, and the audit chain (``xinfang audit verify``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection

from . import crypto, filemodes
from .rotation import encrypted_file_models

BACKUP_MAGIC = b"XFBAK\x01"
_HEADER = struct.Struct(">6s16sBBBxI")
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1  # 32 MB and a tenth of a second per derivation
MIN_PASSPHRASE_LENGTH = 16
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason in plain words."""


# --- the sealed stream --------------------------------------------------------------------------


def _cipher(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> AESGCM:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise BackupError(f"the backup passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters")
    if not 10 <= log2_n <= 22 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise BackupError("not a Xinfang backup (unexpected key-derivation parameters)")
    kdf = Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p)
    return AESGCM(kdf.derive(passphrase.encode()))


class _SealingWriter:
    """A write-only file for ``tarfile`` that seals what it is given into frames as it goes."""

    def __init__(self, out: BinaryIO, passphrase: str, chunk_size: int = crypto.FILE_CHUNK_SIZE) -> None:
        salt = os.urandom(16)
        self._header = _HEADER.pack(BACKUP_MAGIC, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, chunk_size)
        self._cipher = _cipher(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
        self._out = out
        self._chunk = chunk_size
        self._buffer = bytearray()
        self._index = 0
        out.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Keep at least one byte back: only close() knows which frame is the last.
        while len(self._buffer) > self._chunk:
            self._seal(bytes(self._buffer[: self._chunk]), last=False)
            del self._buffer[: self._chunk]
        return len(data)

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        nonce = crypto.frame_nonce(self._index, last=last)
        self._out.write(self._cipher.encrypt(nonce, chunk, self._header))
        self._index += 1


def open_backup(source: BinaryIO, passphrase: str) -> crypto.StreamReader:
    """The decrypted tar stream of a backup; BackupError for a wrong passphrase or a changed file."""
    header = crypto.read_exactly(source, _HEADER.size)
    if len(header) < _HEADER.size or not header.startswith(BACKUP_MAGIC):
        raise BackupError("not a Xinfang backup file")
    _magic, salt, log2_n, r, p, chunk_size = _HEADER.unpack(header)
    reader = crypto.StreamReader(
        crypto.open_frames(source, _cipher(passphrase, salt, log2_n, r, p), header, chunk_size)
    )
    try:
        reader.prime()
    except ValueError:
        raise BackupError("wrong backup passphrase, or the backup file is damaged") from None
    return reader


class _Hashing:
    """A reader that hashes what passes through and keeps the first bytes (for the key id)."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.digest = hashlib.sha256()
        self.head = b""
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        if len(self.head) < 64:
            self.head += data[: 64 - len(self.head)]
        self.digest.update(data)
        self.size += len(data)
        return data


# --- snapshot of the database ------------------------------------------------------------------


@dataclass
class Snapshot:
    """The database dumped at one instant, and what that instant held."""

    vendor: str
    dump: Path
    tables: dict[str, int]
    files: list[str]
    migrations: list[str]
    server_version: str = ""


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted file field (core.files)."""
    found = []
    for model, names in encrypted_file_models():
        for name in names:
            found.append((model._meta.db_table, model._meta.get_field(name).column))
    return found


def _read_snapshot(cursor: Any, tables: list[str], quote: Any) -> tuple[dict[str, int], list[str], list[str]]:
    """Row counts, stored file names and applied migrations, read inside the snapshot."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 (quoted table name)
        counts[table] = cursor.fetchone()[0]
    files: list[str] = []
    for table, column in _file_columns():
        if table in counts:
            col = quote(column)
            cursor.execute(f"SELECT {col} FROM {quote(table)} WHERE {col} <> '' ORDER BY {col}")  # noqa: S608
            files.extend(row[0] for row in cursor.fetchall())
    migrations: list[str] = []
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    return counts, files, migrations


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _snapshot_sqlite(workdir: Path) -> Snapshot:
    name = str(connection.settings_dict["NAME"])
    if not filemodes.sqlite_files(name):
        raise BackupError("an in-memory SQLite database cannot be backed up")
    target = workdir / DATABASE_MEMBERS["sqlite"]
    source = sqlite3.connect(name, timeout=60)
    copy = sqlite3.connect(target)
    try:
        # The online backup API copies a consistent image while other processes keep writing
        # (WAL mode: writers are not blocked; the copy is of one read transaction).
        source.backup(copy)
        cursor = copy.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        tables = [row[0] for row in cursor.fetchall()]
        counts, files, migrations = _read_snapshot(cursor, tables, _quote_sqlite)
        version = sqlite3.sqlite_version
    finally:
        copy.close()
        source.close()
    return Snapshot("sqlite", target, counts, files, migrations, version)


def _pg_env() -> dict[str, str]:
    """libpq environment for pg_dump / pg_restore from the Django database settings."""
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": (settings_dict.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, env=_pg_env(), check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (apt-get install postgresql-client)") from None
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{command[0]} failed: {exc.stderr.strip()}") from None


def _snapshot_postgresql(workdir: Path) -> Snapshot:
    target = workdir / DATABASE_MEMBERS["postgresql"]
    # A connection of its own (not Django's, which may run a health-check query first): the
    # snapshot must be the first thing its transaction does.
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot_id, version = cursor.fetchone()
            # pg_dump reads exactly this snapshot, so the dump, the counts and the file list agree.
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot_id}", f"--file={target}"])
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            tables = [row[0] for row in cursor.fetchall()]
            counts, files, migrations = _read_snapshot(cursor, tables, connection.ops.quote_name)
            cursor.execute("ROLLBACK")
    finally:
        raw.close()
    return Snapshot("postgresql", target, counts, files, migrations, version)


def _snapshot(workdir: Path) -> Snapshot:
    if connection.vendor == "sqlite":
        return _snapshot_sqlite(workdir)
    if connection.vendor == "postgresql":
        return _snapshot_postgresql(workdir)
    raise BackupError(f"backups of {connection.vendor} databases are not supported")


# --- backup ------------------------------------------------------------------------------------


def check_passphrase(passphrase: str) -> str:
    """The passphrase, or BackupError if it is too short to protect a backup."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise BackupError(f"the backup passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters")
    return passphrase


def _add(tar: tarfile.TarFile, name: str, source: BinaryIO, size: int) -> _Hashing:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    hashing = _Hashing(source)
    tar.addfile(info, hashing)  # type: ignore[arg-type]
    return hashing


def create_backup(output: Path, *, passphrase: str) -> dict[str, Any]:
    """Write the encrypted backup of this site to ``output`` (mode 0600, written to ``.part`` and
    renamed when complete) and return its manifest."""
    check_passphrase(passphrase)
    partial = output.with_name(output.name + ".part")
    with tempfile.TemporaryDirectory(prefix="xinfang-backup-") as work:  # 0700, removed afterwards
        snapshot = _snapshot(Path(work))
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                writer = _SealingWriter(out, passphrase)
                with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                    manifest = _write_members(tar, snapshot)
                    body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
                    _add(tar, MANIFEST, io.BytesIO(body), len(body))
                writer.close()
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
    os.replace(partial, output)
    return manifest


def _write_members(tar: tarfile.TarFile, snapshot: Snapshot) -> dict[str, Any]:
    member = DATABASE_MEMBERS[snapshot.vendor]
    with snapshot.dump.open("rb") as dump:
        database = _add(tar, member, dump, snapshot.dump.stat().st_size)
    files, missing, key_ids = [], [], set()
    for name in snapshot.files:
        try:
            size = default_storage.size(name)
            handle = default_storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            missing.append(name)  # reported by the command: a row whose file is lost
            continue
        with handle:
            hashing = _add(tar, MEDIA_PREFIX + name, handle, size)
        kid = crypto.file_key_id(hashing.head)
        key_ids.add(kid.hex() if kid else "plaintext")
        files.append({"name": name, "size": hashing.size, "sha256": hashing.digest.hexdigest()})
    return {
        "format": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": {
            "vendor": snapshot.vendor,
            "server_version": snapshot.server_version,
            "member": member,
            "size": database.size,
            "sha256": database.digest.hexdigest(),
        },
        "tables": snapshot.tables,
        "migrations": snapshot.migrations,
        "files": files,
        "missing_files": missing,
        # Which field keys the restored site needs (ids only; the keys are never in a backup).
        "file_key_ids": sorted(key_ids),
    }


# --- restore -----------------------------------------------------------------------------------


@dataclass
class Unpacked:
    """A backup decrypted into a private directory and checked against its manifest."""

    root: Path
    manifest: dict[str, Any]


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"unsafe path in backup: {name}")
    allowed = name == MANIFEST or name in DATABASE_MEMBERS.values() or name.startswith(MEDIA_PREFIX)
    if not allowed:
        raise BackupError(f"unexpected member in backup: {name}")
    return path


def unpack(source: Path, root: Path, *, passphrase: str) -> Unpacked:
    """Decrypt ``source`` into ``root`` and check every member's size and SHA-256 against the
    manifest (which the backup's authenticated encryption also protects)."""
    seen: dict[str, tuple[int, str]] = {}
    with source.open("rb") as raw, open_backup(raw, passphrase) as stream:
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    if not member.isfile():
                        raise BackupError(f"unexpected entry in backup: {member.name}")
                    target = root / _safe_member(member.name)
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    extracted = tar.extractfile(member)
                    hashing = _Hashing(extracted)  # type: ignore[arg-type]
                    with target.open("wb") as out:
                        shutil.copyfileobj(hashing, out)  # type: ignore[misc]
                    seen[member.name] = (hashing.size, hashing.digest.hexdigest())
        except (tarfile.TarError, ValueError) as exc:
            raise BackupError(f"the backup file is damaged: {exc}") from None
    if MANIFEST not in seen:
        raise BackupError("the backup has no manifest: it was cut short")
    manifest = json.loads((root / MANIFEST).read_text())
    problems = [*_member_problems(manifest, seen)]
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    return Unpacked(root, manifest)


def _member_problems(manifest: dict[str, Any], seen: dict[str, tuple[int, str]]) -> Iterator[str]:
    expected = {
        manifest["database"]["member"]: (manifest["database"]["size"], manifest["database"]["sha256"])
    }
    expected |= {MEDIA_PREFIX + f["name"]: (f["size"], f["sha256"]) for f in manifest["files"]}
    for name, value in expected.items():
        if seen.get(name) != value:
            yield f"{name}: {'missing' if name not in seen else 'checksum differs'}"
    for name in set(seen) - set(expected) - {MANIFEST}:
        yield f"{name}: not in the manifest"


def _check_migrations(manifest: dict[str, Any]) -> None:
    """A backup taken by a newer version (migrations this code does not know) is refused: the
    site would run on a schema it does not understand.  An older backup is fine; migrate after."""
    from django.db.migrations.loader import MigrationLoader

    known = {
        f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    }
    unknown = sorted(set(manifest.get("migrations", [])) - known)
    if unknown:
        raise BackupError(
            f"the backup is of a newer version of Xinfang (migration {unknown[0]}): upgrade first"
        )


def _check_target_is_empty(manifest: dict[str, Any]) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"this backup is of a {vendor} database; the configured one is {connection.vendor}")
    if connection.introspection.table_names():
        raise BackupError("the target database is not empty: restore only into a new, empty database")
    present = [f["name"] for f in manifest["files"] if default_storage.exists(f["name"])]
    if present:
        raise BackupError(f"the target storage already holds {len(present)} of the files (e.g. {present[0]})")


def _load_database(unpacked: Unpacked) -> None:
    dump = unpacked.root / unpacked.manifest["database"]["member"]
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        connection.close()
        source, target = sqlite3.connect(dump), sqlite3.connect(name)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        for path in filemodes.sqlite_files(name):
            filemodes.restrict(path, filemodes.FILE_MODE)
        return
    connection.close()
    # No owner or privileges from the source: the objects belong to whoever restores, and the
    # grants of the application role are given afterwards (docs/security.md §4, audit grants).
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ]
    )


def _load_files(unpacked: Unpacked) -> None:
    for entry in unpacked.manifest["files"]:
        with (unpacked.root / (MEDIA_PREFIX + entry["name"])).open("rb") as handle:
            stored = default_storage.save(entry["name"], File(handle))
        if stored != entry["name"]:
            raise BackupError(f"the storage renamed {entry['name']} to {stored}")


@dataclass
class RestoreReport:
    """What a restore (or a verification of a live site against a manifest) found."""

    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    audit: str = ""


def verify_site(manifest: dict[str, Any]) -> RestoreReport:
    """Compare the configured site with a manifest: every table's count, every file's checksum,
    and the audit chain (``xinfang audit verify``) when that command exists."""
    report = RestoreReport(manifest)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, expected in sorted(manifest["tables"].items()):
            cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 (quoted name from the manifest)
            actual = cursor.fetchone()[0]
            if actual != expected:
                report.problems.append(f"table {table}: {actual} rows, the backup had {expected}")
    for entry in manifest["files"]:
        try:
            with default_storage.open(entry["name"], "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except (FileNotFoundError, OSError):
            digest = "missing"
        if digest != entry["sha256"]:
            report.problems.append(
                f"file {entry['name']}: {digest if digest == 'missing' else 'checksum differs'}"
            )
    if "audit" in get_commands():
        out = io.StringIO()
        try:
            call_command("audit", "verify", stdout=out)
            report.audit = out.getvalue().strip()
        except CommandError as exc:
            report.problems.append(f"audit chain: {exc}")
    return report


def restore_backup(source: Path, *, passphrase: str) -> RestoreReport:
    """Bring a backup back into an empty database and storage, then verify it (RestoreReport)."""
    with tempfile.TemporaryDirectory(prefix="xinfang-restore-") as work:
        unpacked = unpack(source, Path(work), passphrase=check_passphrase(passphrase))
        _check_migrations(unpacked.manifest)
        _check_target_is_empty(unpacked.manifest)
        _load_database(unpacked)
        _load_files(unpacked)
    return verify_site(unpacked.manifest)
