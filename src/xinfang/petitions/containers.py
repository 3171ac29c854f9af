"""Whole-container checks of uploads (issue #7 point 27): the first bytes say what a file claims
to be; these checks read the rest, so that a zip bomb, a program packed into a ``.docx`` or a
damaged file is refused at the door (docs/security.md §5).

* OOXML (``.docx``): a zip whose members are what an Office document holds — ``[Content_Types].xml``
  and the main part present; no absolute or ``..`` paths; no programs, macros, embedded objects or
  nested archives (by name and by their first bytes); at most MAX_MEMBERS members; the whole
  uncompressed size and the compression ratio bounded; every member read (bounded by its
  declared size, which zipfile never reads past) and its CRC checked.
* Images: Pillow parses the structure (``verify``), the format must match, and the pixel count
  is bounded (a small file may declare a gigapixel image).
* PDF: a version header and the ``startxref`` / ``%%EOF`` trailer at the end.
* ``.doc`` (OLE compound file): a sane header (version, byte order, sector size).
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

# Bounds for OOXML.  A letter of complaint with scanned pages is a few MB unpacked; text XML
# compresses 5-20 times, a bomb thousands of times.
MAX_MEMBERS = 1000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100
MAX_IMAGE_PIXELS = 100_000_000  # 10,000 × 10,000: more than any A3 scan at 600 dpi

# Members an Office document never needs and an attacker would use.
FORBIDDEN_SUFFIXES = frozenset(
    {
        # programs and scripts
        *(".exe", ".dll", ".com", ".scr", ".bat", ".cmd", ".msi", ".ps1", ".vbs", ".vbe", ".js"),
        *(".jse", ".wsf", ".hta", ".lnk", ".cpl", ".sys", ".sh", ".elf", ".jar", ".apk", ".app"),
        # archives
        *(".zip", ".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".cab", ".iso"),
        # macro-enabled Office files
        *(".docm", ".xlsm", ".pptm", ".dotm"),
    }
)
FORBIDDEN_NAMES = frozenset({"vbaproject.bin"})  # macros
FORBIDDEN_DIRECTORIES = frozenset({"embeddings", "activex"})  # embedded objects (OLE packages, ActiveX)
# First bytes of programs and archives, recognised whatever a member is called.
FORBIDDEN_MAGIC = (
    b"MZ",  # Windows programs
    b"\x7fELF",
    b"PK\x03\x04",  # a nested zip (or Office file)
    b"Rar!",
    b"7z\xbc\xaf\x27\x1c",
    b"MSCF",  # cabinet
    b"\x1f\x8b",  # gzip
    b"\xca\xfe\xba\xbe",  # Java class / Mach-O fat binary
)


def _refuse(name: str, message: str, code: str) -> ValidationError:
    return ValidationError(message.format(name=name), code=code)


def _damaged(name: str) -> ValidationError:
    return _refuse(name, _("附件“{name}”已损坏或格式不完整，无法打开。"), "attachment_damaged")


def check_ooxml(upload: BinaryIO, *, name: str, main_parts: tuple[str, ...]) -> None:
    """Refuse a .docx that is not an Office document and nothing else (module docstring)."""
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _damaged(name) from None
    with archive:
        members = archive.infolist()
        _check_member_names(members, name=name, main_parts=main_parts)
        _check_sizes(members, name=name)
        _read_members(archive, members, name=name)


def _check_member_names(members: list[zipfile.ZipInfo], *, name: str, main_parts: tuple[str, ...]) -> None:
    if len(members) > MAX_MEMBERS:
        raise _refuse(name, _("附件“{name}”包含的文件过多，不像正常的文档。"), "attachment_archive")
    names = set()
    for member in members:
        path = member.filename
        parts = PurePosixPath(path.replace("\\", "/")).parts
        if path.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise _refuse(name, _("附件“{name}”内含不安全的文件路径，已拒收。"), "attachment_archive")
        lowered = [p.lower() for p in parts]
        suffix = PurePosixPath(lowered[-1]).suffix if lowered else ""
        if (
            suffix in FORBIDDEN_SUFFIXES
            or (lowered and lowered[-1] in FORBIDDEN_NAMES)
            or FORBIDDEN_DIRECTORIES & set(lowered[:-1])
        ):
            raise _refuse(
                name,
                _(
                    "附件“{name}”内含可执行程序、宏、嵌入对象或压缩包，已拒收。"
                    "请把文档另存为不含宏和嵌入对象的 Word 文件后再上传。"
                ),
                "attachment_archive",
            )
        names.add(path)
    if "[Content_Types].xml" not in names or not any(part in names for part in main_parts):
        raise _refuse(name, _("附件“{name}”不是有效的 Word 文档。"), "attachment_content")


def _check_sizes(members: list[zipfile.ZipInfo], *, name: str) -> None:
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES or total > MAX_RATIO * max(packed, 1):
        raise _refuse(name, _("附件“{name}”解压后过大（疑似压缩炸弹），已拒收。"), "attachment_bomb")


def _read_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], *, name: str) -> None:
    """Decompress every member (bounded: zipfile stops at the declared size, checked above) to
    check its CRC and look at its first bytes."""
    for member in members:
        if member.is_dir():
            continue
        try:
            with archive.open(member) as stream:
                head = stream.read(8)
                if head.startswith(FORBIDDEN_MAGIC):
                    raise _refuse(
                        name, _("附件“{name}”内含可执行程序或压缩包，已拒收。"), "attachment_archive"
                    )
                while stream.read(1024 * 1024):
                    pass
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
            raise _damaged(name) from None


def check_image(upload: BinaryIO, *, name: str, formats: tuple[str, ...]) -> None:
    """Refuse an image Pillow cannot parse, of another format, or of an absurd pixel count."""
    try:
        with Image.open(upload) as image:
            if image.format not in formats:
                raise _refuse(name, _("附件“{name}”的内容与文件类型不符。"), "attachment_content")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _refuse(name, _("附件“{name}”的图像尺寸过大，已拒收。"), "attachment_bomb")
            image.verify()
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        struct.error,
    ):
        raise _damaged(name) from None


def check_pdf(upload: BinaryIO, *, name: str) -> None:
    """A PDF begins with its version and ends with ``startxref`` … ``%%EOF`` (ISO 32000-1 §7.5.5);
    up to 1 KB of trailing bytes after it are tolerated, as some scanners append them."""
    head = upload.read(16)
    if not (head.startswith(b"%PDF-1.") or head.startswith(b"%PDF-2.")):
        raise _damaged(name)
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(max(0, size - 2048))
    tail = upload.read()
    end = tail.rfind(b"%%EOF")
    if end < 0 or len(tail) - end > 1024 or tail.rfind(b"startxref", 0, end) < 0:
        raise _damaged(name)


def check_ole(upload: BinaryIO, *, name: str) -> None:
    """A .doc is an OLE compound file: version 3 (512-byte sectors) or 4 (4096), little-endian
    ([MS-CFB] §2.2)."""
    header = upload.read(512)
    if len(header) < 512:
        raise _damaged(name)
    _minor, major, byte_order, sector_shift = struct.unpack_from("<HHHH", header, 24)
    if byte_order != 0xFFFE or (major, sector_shift) not in {(3, 9), (4, 12)}:
        raise _damaged(name)


def structure_check(content_type: str) -> Callable[..., None] | None:
    """The check for a content type, called as ``check(upload, name=…)``."""
    return _CHECKS.get(content_type)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_CHECKS: dict[str, Callable[..., None]] = {
    "application/pdf": check_pdf,
    "image/jpeg": lambda upload, name: check_image(upload, name=name, formats=("JPEG", "MPO")),
    "image/png": lambda upload, name: check_image(upload, name=name, formats=("PNG",)),
    "image/tiff": lambda upload, name: check_image(upload, name=name, formats=("TIFF",)),
    DOCX: lambda upload, name: check_ooxml(upload, name=name, main_parts=("word/document.xml",)),
    "application/msword": check_ole,
}
