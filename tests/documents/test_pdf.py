"""The PDF converter (documents/pdf.py): warm LibreOffice behind unoserver, the fonts of the
official-document standard mapped to Noto CJK SC and embedded, the cold fallback, failures."""

from __future__ import annotations

import io

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from xinfang.documents import pdf

TEXT = "信访事项处理意见书：经查明，现答复如下。直骨"


def make_docx(font: str, text: str = TEXT) -> bytes:
    document = docx.Document()
    run = document.add_paragraph().add_run(text)
    run.font.name = font
    run._element.rPr.rFonts.set(qn("w:eastAsia"), font)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def font_stream(pdf_bytes: bytes):
    """The (only) font of the first page: its dictionary and its embedded font program."""
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    (font,) = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    descriptor = font["/FontDescriptor"].get_object()
    files = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
    assert files, "the font is not embedded"
    return font, descriptor[files[0]].get_object()


def glyph_programs(pdf_bytes: bytes) -> bytes:
    """The glyph outlines (Type 1 CharStrings, eexec-decrypted) of the embedded font subset:
    equal outlines mean the same face.  (Noto's CJK collection shares one CFF table named
    "NotoSerifCJKjp" among its JP/KR/SC/TC faces, so the name in the PDF cannot tell SC from JP;
    the glyphs can: 直 and 骨 differ between them.)"""
    _font, stream = font_stream(pdf_bytes)
    start, length = stream["/Length1"], stream["/Length2"]
    data, key, plain = stream.get_data()[start : start + length], 55665, bytearray()
    for byte in data:
        plain.append(byte ^ (key >> 8))
        key = ((byte + key) * 52845 + 22719) & 0xFFFF
    body = bytes(plain[4:])
    return body[body.find(b"/CharStrings") :]


@pytest.fixture(scope="module")
def warm():
    if pdf.uno_python() is None:
        pytest.skip("python3-uno / .venv-uno not installed (make install)")
    return pdf


def test_warm_conversion_text_and_embedded_noto_serif_sc_for_fangsong(warm):
    out = warm.docx_to_pdf(make_docx("仿宋_GB2312"))
    assert out.startswith(b"%PDF")
    assert TEXT in PdfReader(io.BytesIO(out)).pages[0].extract_text()
    font, _stream = font_stream(out)
    assert "NotoSerifCJK" in str(font["/BaseFont"])  # embedded (subset), serif, not DejaVu or Sans
    sc = warm.docx_to_pdf(make_docx("Noto Serif CJK SC"))
    jp = warm.docx_to_pdf(make_docx("Noto Serif CJK JP"))
    assert glyph_programs(out) == glyph_programs(sc)
    assert glyph_programs(out) != glyph_programs(jp)


def test_heiti_maps_to_noto_sans_sc(warm):
    font, _stream = font_stream(warm.docx_to_pdf(make_docx("黑体")))
    assert "NotoSansCJK" in str(font["/BaseFont"])


def test_warm_server_is_reused_and_a_dead_one_is_replaced(warm, monkeypatch):
    warm.docx_to_pdf(make_docx("宋体"))
    address = warm._state.address
    assert address is not None and warm._answers(address)
    warm.docx_to_pdf(make_docx("宋体"))
    assert warm._state.address == address  # no second LibreOffice for the second document
    # The server this process knew has gone (LibreOffice crashed): the next call gets a working one.
    monkeypatch.setattr(warm._state, "address", ("127.0.0.1", warm._free_port()))
    out = warm.docx_to_pdf(make_docx("宋体"))
    assert "信访事项" in PdfReader(io.BytesIO(out)).pages[0].extract_text()
    assert warm._answers(warm._state.address)


def test_cold_fallback_without_uno(settings, monkeypatch, caplog):
    settings.PDF_UNOSERVER_PYTHON = "/nonexistent/python"
    monkeypatch.setattr(pdf, "_state", pdf._State())
    out = pdf.docx_to_pdf(make_docx("仿宋_GB2312"))
    assert "经查明" in PdfReader(io.BytesIO(out)).pages[0].extract_text()
    assert "NotoSerifCJK" in str(font_stream(out)[0]["/BaseFont"])
    assert pdf._state.address is None
    assert "cold soffice" in caplog.text


@pytest.mark.parametrize("path", ["warm", "cold"])
def test_broken_docx_is_conversion_failed(path, settings, monkeypatch):
    if path == "cold":
        settings.PDF_UNOSERVER_PYTHON = "/nonexistent/python"
        monkeypatch.setattr(pdf, "_state", pdf._State())
    elif pdf.uno_python() is None:
        pytest.skip("python3-uno / .venv-uno not installed")
    broken = make_docx("宋体")[:300]  # a truncated zip: not a document LibreOffice can read
    with pytest.raises(pdf.ConversionFailed):
        pdf.docx_to_pdf(broken)


def test_configured_server_that_is_down_fails_without_starting_one(settings, monkeypatch):
    settings.PDF_SERVER = f"127.0.0.1:{pdf._free_port()}"
    monkeypatch.setattr(pdf, "_state", pdf._State())
    with pytest.raises(pdf.ConversionFailed):
        pdf.docx_to_pdf(make_docx("宋体"))
    assert pdf._state.process is None


def test_a_crashed_libreoffice_is_restarted_on_the_next_call(warm):
    import os
    import signal

    warm.docx_to_pdf(make_docx("宋体"))
    process = warm._state.process
    if process is None or warm._state.owner_pid != os.getpid():
        pytest.skip("the machine's converter belongs to another process")
    os.killpg(process.pid, signal.SIGKILL)  # unoserver and its LibreOffice, as in a crash
    process.wait(10)
    out = warm.docx_to_pdf(make_docx("宋体"))
    assert "信访事项" in PdfReader(io.BytesIO(out)).pages[0].extract_text()
    assert warm._state.process is not None and warm._state.process.pid != process.pid


def test_pdfserver_command_serves_a_configured_site(warm, settings, monkeypatch):
    """``xinfang pdfserver`` in the foreground (as systemd runs it), used via XINFANG_PDF_SERVER."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    port = pdf._free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xinfang.test_settings"}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "xinfang.cli", "pdfserver", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not pdf._answers(("127.0.0.1", port), timeout=2) and time.monotonic() < deadline:
            time.sleep(0.5)
        settings.PDF_SERVER = f"127.0.0.1:{port}"
        monkeypatch.setattr(pdf, "_state", pdf._State())
        out = pdf.docx_to_pdf(make_docx("仿宋_GB2312"))
        assert "经查明" in PdfReader(io.BytesIO(out)).pages[0].extract_text()
        assert pdf._state.process is None  # nothing started by this process
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        time.sleep(1)
        with contextlib.suppress(ProcessLookupError):  # as systemd does after its stop timeout
            os.killpg(server.pid, signal.SIGKILL)


def test_pdfserver_command_without_uno(settings):
    from django.core.management import CommandError, call_command

    settings.PDF_UNOSERVER_PYTHON = "/nonexistent/python"
    with pytest.raises(CommandError):
        call_command("pdfserver", "--port", "2999")
