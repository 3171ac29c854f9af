"""DOCX → PDF with LibreOffice (issue #10 point 5): one template gives both files, so the PDF the
portal serves and the DOCX the office edits say the same.

A cold ``soffice --convert-to pdf`` starts LibreOffice for every document (3-5 s); a *warm*
LibreOffice behind unoserver (https://github.com/unoconv/unoserver) converts one in a fraction of a
second (docs/performance.md, "Documents").  ``docx_to_pdf`` talks XML-RPC to such a server:

* ``PDF_SERVER`` (``XINFANG_PDF_SERVER=host:port``): a server the site runs as a service
  (``xinfang pdfserver`` under systemd); nothing is started here.
* otherwise one server **per machine** (per ``var/`` directory) is started on first use by
  whichever process needs it first (web or worker), under the Python that has Debian's
  ``python3-uno`` (``PDF_UNOSERVER_PYTHON``, default ``.venv-uno/bin/python``, made by
  ``make install``), on a free loopback port written to ``var/pdfserver/address``.  Every other
  process on the machine finds it there and uses it instead of starting its own: one LibreOffice
  (~150 MB) per machine, not one per worker process.  A file lock (``var/pdfserver/lock``) makes
  the start happen once.  The process that started it stops it when it exits (atexit, and the
  server also exits by itself when its parent is gone: django-q's worker processes leave without
  atexit); the next call anywhere then starts a new one.
* no ``python3-uno``: the cold ``soffice`` path, with a warning in the log.

Fonts: the converter runs with ``FONTCONFIG_FILE`` = ``documents/fonts/fonts.conf``, which maps
the official-document fonts the templates name (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312) to
Noto Serif/Sans CJK SC (Debian's fonts-noto-cjk, installed by the set-up, never fetched at run time);
LibreOffice embeds the font it used, so the PDF prints the same anywhere.

Timeouts: ``PDF_TIMEOUT`` seconds per conversion, on both sides (the client stops waiting; the
server kills a LibreOffice that hangs and exits).  A server that died (LibreOffice crashed, killed
for a timeout) is noticed on the next call, which starts a fresh one.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

FONTS_CONF = Path(__file__).resolve().parent / "fonts" / "fonts.conf"
# unoserver sleeps 7 s before it answers; a first start of LibreOffice with a fresh profile on a busy
# 2-core machine has taken up to ~20 s.
START_TIMEOUT = 90.0

# Run by the uno Python: unoserver's own main(), plus a watchdog that stops it and LibreOffice (its
# process group) once the process that started it is gone, whichever way that one ended.  The
# ``soffice`` launcher is used, not ``soffice.bin``: on a fresh profile soffice.bin exits to be
# restarted, which only the launcher (oosplash) does.
_SERVER_MAIN = """\
import os, signal, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    # The server's own session: unoserver, oosplash, soffice.bin.  SIGKILL, since after a SIGTERM
    # this process may be gone before it could finish the job, and oosplash was seen to outlive it.
    os.killpg(os.getpgid(0), signal.SIGKILL)
if os.environ.get("XINFANG_PDFSERVER_WATCH_PARENT") == "1":
    threading.Thread(target=watch, daemon=True).start()
from unoserver.server import main
sys.argv[0] = "unoserver"
sys.exit(main())
"""


class ConversionFailed(RuntimeError):
    pass


# --- the converter's environment ------------------------------------------------------------------


def converter_env() -> dict[str, str]:
    """The environment of LibreOffice: our font mapping (and the system's, which it includes)."""
    env = dict(os.environ)
    env["FONTCONFIG_FILE"] = str(FONTS_CONF)
    return env


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise ConversionFailed(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui"
        )
    return found


def run_dir() -> Path:
    path = Path(settings.VAR_DIR).resolve() / "pdfserver"
    path.mkdir(parents=True, exist_ok=True)
    return path


_uno_python_checked: dict[str, bool] = {}


def uno_python() -> str | None:
    """The Python that can run unoserver's server (it needs ``import uno``), or None."""
    configured = getattr(settings, "PDF_UNOSERVER_PYTHON", "") or ""
    candidates = [configured] if configured else [str(Path(settings.PROJECT_DIR) / ".venv-uno/bin/python")]
    for python in candidates:
        if python not in _uno_python_checked:
            ok = False
            if Path(python).exists():
                probe = subprocess.run(  # noqa: S603 — fixed argv
                    [python, "-c", "import uno, unoserver.server"], capture_output=True, timeout=60
                )
                ok = probe.returncode == 0
            _uno_python_checked[python] = ok
        if _uno_python_checked[python]:
            return python
    return None


def server_command(python: str, port: int, uno_port: int, profile: Path, *, timeout: int) -> list[str]:
    """argv of a unoserver (XML-RPC on ``port``, LibreOffice's UNO socket on ``uno_port``)."""
    return [
        python, "-c", _SERVER_MAIN, "--interface", "127.0.0.1", "--uno-interface", "127.0.0.1",
        "--port", str(port), "--uno-port", str(uno_port), "--user-installation", str(profile),
        "--conversion-timeout", str(timeout), "--executable", soffice(), "--quiet",
    ]  # fmt: skip


# --- XML-RPC ------------------------------------------------------------------------------------


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):  # type: ignore[no-untyped-def]
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


def _proxy(address: tuple[str, int], timeout: float) -> xmlrpc.client.ServerProxy:
    host, port = address
    return xmlrpc.client.ServerProxy(
        f"http://{host}:{port}", transport=_TimeoutTransport(timeout), allow_none=True
    )


def _answers(address: tuple[str, int], timeout: float = 5.0) -> bool:
    try:
        with _proxy(address, timeout) as proxy:
            proxy.info()
        return True
    except (OSError, xmlrpc.client.Error):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_address(value: str) -> tuple[str, int]:
    host, _sep, port = value.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"PDF server address must be host:port, not {value!r}")
    return host, int(port)


# --- the warm server ----------------------------------------------------------------------------


@dataclass
class _State:
    address: tuple[str, int] | None = None
    process: subprocess.Popen | None = None  # the server this process started, if any
    owner_pid: int = 0  # a forked child inherits ``process`` but must not stop its parent's server
    warned_cold: bool = False


_state = _State()
_lock = threading.Lock()


def _stop_own_server() -> None:
    if _state.owner_pid != os.getpid():
        _state.process = None
        return
    process, _state.process = _state.process, None
    if process is not None and process.poll() is None:
        # The server runs in a session of its own (start_new_session): the whole group, LibreOffice
        # included, is signalled, so nothing is left behind even if unoserver does not pass it on.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(15)
        # unoserver has exited; what is left of its group (oosplash was seen to ignore SIGTERM)
        # gets a few seconds, then SIGKILL.
        deadline = time.monotonic() + 3
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:
                os.killpg(process.pid, 0)
                time.sleep(0.1)
            os.killpg(process.pid, signal.SIGKILL)
    if process is not None and _state.address is not None:
        with contextlib.suppress(OSError):
            address_file = run_dir() / "address"
            if address_file.read_text().strip() == f"{_state.address[0]}:{_state.address[1]}":
                address_file.unlink()
    _state.address = None


atexit.register(_stop_own_server)


def _start_or_join(python: str) -> tuple[str, int] | None:
    """The machine's server: the one named in ``var/pdfserver/address`` if it answers, else one
    started now under the file lock (a second process waiting on the lock then finds it)."""
    directory = run_dir()
    address_file = directory / "address"
    with open(directory / "lock", "a+") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # blocks while another process starts one
        try:
            with contextlib.suppress(OSError, ValueError):
                address = parse_address(address_file.read_text())
                if _answers(address):
                    return address
            if _state.process is not None:  # ours, but it no longer answers: replace it
                _stop_own_server()
            port, uno_port = _free_port(), _free_port()
            while uno_port == port:
                uno_port = _free_port()
            timeout = int(settings.PDF_TIMEOUT)
            env = converter_env() | {"XINFANG_PDFSERVER_WATCH_PARENT": "1"}
            log = open(directory / "unoserver.log", "ab")  # noqa: SIM115 — kept by the child
            started = time.monotonic()
            process = subprocess.Popen(  # noqa: S603 — fixed argv
                server_command(python, port, uno_port, directory / "profile", timeout=timeout),
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
            log.close()
            address = ("127.0.0.1", port)
            while time.monotonic() - started < START_TIMEOUT:
                if process.poll() is not None:
                    break
                if _answers(address, timeout=2):
                    _state.process, _state.owner_pid = process, os.getpid()
                    address_file.write_text(f"127.0.0.1:{port}\n")
                    logger.info(
                        "PDF converter (unoserver) started on 127.0.0.1:%s in %.1f s",
                        port, time.monotonic() - started,
                    )  # fmt: skip
                    return address
                time.sleep(0.25)
            process.terminate()
            logger.warning("the PDF converter (unoserver) did not start: see %s", directory / "unoserver.log")
            return None
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _warm_address(*, fresh: bool = False) -> tuple[str, int] | None:
    """Where to convert: the configured server, or the machine's (found or started); None: cold."""
    configured = getattr(settings, "PDF_SERVER", "") or ""
    if configured:
        return parse_address(configured)
    with _lock:
        if _state.address is not None and not fresh:
            return _state.address
        python = uno_python()
        if python is None:
            if not _state.warned_cold:
                logger.warning(
                    "python3-uno/unoserver not available (PDF_UNOSERVER_PYTHON, .venv-uno): "
                    "documents are converted by a cold soffice, 3-5 s each (make install; "
                    "docs/deployment.md)"
                )
                _state.warned_cold = True
            return None
        _state.address = _start_or_join(python)
        return _state.address


def _convert_remote(address: tuple[str, int], docx: bytes, timeout: float) -> bytes:
    with _proxy(address, timeout) as proxy:
        result = proxy.convert(None, xmlrpc.client.Binary(docx), None, "pdf", None, [], True, None)
    if result is None:
        raise ConversionFailed("the PDF converter returned nothing")
    return result.data


def docx_to_pdf(docx: bytes, timeout: float | None = None) -> bytes:
    """The PDF of ``docx``; ``ConversionFailed`` if LibreOffice cannot read it or takes too long."""
    timeout = float(timeout or settings.PDF_TIMEOUT)
    for attempt in (1, 2):
        address = _warm_address(fresh=attempt == 2)
        if address is None:
            return cold_docx_to_pdf(docx, timeout)
        try:
            pdf = _convert_remote(address, docx, timeout)
        except xmlrpc.client.Fault as fault:
            # LibreOffice could not read or convert this document; the server itself is fine.
            raise ConversionFailed(str(fault.faultString)[-2000:]) from fault
        except TimeoutError as exc:
            # A hung LibreOffice: unoserver kills it and exits (its --conversion-timeout); the next
            # call starts a new one.
            with _lock:
                _state.address = None
            raise ConversionFailed(f"PDF conversion took longer than {timeout:.0f} s") from exc
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            # The server is gone (LibreOffice crashed, its owner exited): once more with a fresh one.
            with _lock:
                _state.address = None
            if attempt == 2 or getattr(settings, "PDF_SERVER", ""):
                where = f"{address[0]}:{address[1]}"
                raise ConversionFailed(f"the PDF converter at {where} failed: {exc}") from exc
            continue
        if not pdf.startswith(b"%PDF"):
            raise ConversionFailed("the PDF converter returned something that is not a PDF")
        return pdf
    raise AssertionError("unreachable")


def cold_docx_to_pdf(docx: bytes, timeout: float = 120) -> bytes:
    """One ``soffice --convert-to pdf`` in a private profile: slow (3-5 s), needs nothing but LibreOffice."""
    with tempfile.TemporaryDirectory(prefix="xinfang-pdf-") as tmp:
        work = Path(tmp)
        (work / "document.docx").write_bytes(docx)
        profile = (work / "profile").as_uri()
        try:
            result = subprocess.run(  # noqa: S603 — fixed argv, no shell
                [soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(work), str(work / "document.docx")],
                capture_output=True, timeout=timeout, check=False, env=converter_env(),
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise ConversionFailed(f"soffice took longer than {timeout:.0f} s") from exc
        out = work / "document.pdf"
        if result.returncode != 0 or not out.exists():
            raise ConversionFailed(
                result.stderr.decode(errors="replace")[-2000:] or "soffice could not convert the document"
            )
        return out.read_bytes()


def run_server_foreground(port: int) -> None:
    """``xinfang pdfserver``: a unoserver in the foreground (replaces this process), for systemd."""
    python = uno_python()
    if python is None:
        raise ConversionFailed(
            "no Python with python3-uno and unoserver: make install (or set XINFANG_UNOSERVER_PYTHON)"
        )
    directory = run_dir()
    uno_port = _free_port()
    profile = directory / f"profile-{port}"
    argv = server_command(python, port, uno_port, profile, timeout=int(settings.PDF_TIMEOUT))
    sys.stdout.flush()
    os.execve(python, argv, converter_env())  # noqa: S606 — fixed argv
