"""Owner-only file modes for the data Xinfang keeps on local disk (issue #7 point 24).

The SQLite database (with its ``-wal`` and ``-shm`` files) holds every petition, and the media
directory holds the attachments: on a shared machine neither may be readable by other accounts,
whatever the umask of the process that created them.  Uploaded files and their directories get
0600/0700 through FILE_UPLOAD_PERMISSIONS / FILE_UPLOAD_DIRECTORY_PERMISSIONS (settings); this
module tightens what exists already: the database files whenever a connection opens (SQLite
creates the file on connect and the WAL files later, with the umask's mode), and MEDIA_ROOT.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def restrict(path: Path | str, mode: int) -> None:
    """Set ``mode`` on ``path`` if it exists and is more open; missing paths are left alone.  A
    path the process may not change (owned by another account) is logged, never fatal: the site
    must not stop serving because of a file mode."""
    with contextlib.suppress(FileNotFoundError):
        try:
            current = stat.S_IMODE(os.stat(path).st_mode)
            if current & ~mode:
                os.chmod(path, mode)
        except PermissionError:
            logger.warning("cannot set mode %o on %s: set it by hand (docs/security.md §5)", mode, path)


def sqlite_files(name: str) -> list[Path]:
    """The files of an SQLite database on disk (none for an in-memory database)."""
    if not name or name == ":memory:" or str(name).startswith("file:"):
        return []
    base = Path(name)
    return [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]


def protect_database_files(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: owner-only modes on an SQLite database's files."""
    if connection.vendor != "sqlite":
        return
    for path in sqlite_files(str(connection.settings_dict.get("NAME") or "")):
        restrict(path, FILE_MODE)


def protect_media_root() -> None:
    """Owner-only mode on MEDIA_ROOT when attachments are stored on the local disk."""
    root = getattr(settings, "MEDIA_ROOT", "")
    if root:
        restrict(root, DIRECTORY_MODE)
