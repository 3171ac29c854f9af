"""DOCX → PDF with LibreOffice (issue #10 point 5): one template gives both files, so the PDF the
portal serves and the DOCX the office edits say the same.

This first version converts with ``soffice --headless --convert-to pdf`` in a private profile;
a warm converter process (unoserver) replaces it for speed (docs/performance.md).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class ConversionFailed(RuntimeError):
    pass


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise ConversionFailed(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui"
        )
    return found


def docx_to_pdf(docx: bytes, timeout: float = 120) -> bytes:
    with tempfile.TemporaryDirectory(prefix="xinfang-pdf-") as tmp:
        work = Path(tmp)
        (work / "document.docx").write_bytes(docx)
        profile = (work / "profile").as_uri()
        result = subprocess.run(  # noqa: S603 — fixed argv, no shell
            [soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(work), str(work / "document.docx")],
            capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip
        out = work / "document.pdf"
        if result.returncode != 0 or not out.exists():
            raise ConversionFailed(result.stderr.decode(errors="replace")[-2000:])
        return out.read_bytes()
