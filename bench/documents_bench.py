"""Benchmark: documents (文书) as PDF (issue #10 point 5).

    .venv/bin/python bench/documents_bench.py                  # SQLite under var/bench-documents/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xinfang_bench_documents \\
        .venv/bin/python bench/documents_bench.py --notices 1000

(a) A decision letter: a petition registered, assigned, accepted, its 处理意见书 drafted, approved and
    issued through ``documents.services``; then its kept DOCX converted with ``pdf.docx_to_pdf``:
    the first call (starting the machine's warm LibreOffice) apart, then N warm runs, p50/p95.
    Target: ≤ 1 s per decision letter.
(b) N receipts (登记回执, "a month's receipts") issued with the worker stopped, so their PDF jobs
    wait in the queue; then a real ``xinfang worker`` process is started: it makes the N PDFs (the
    jobs ``render_pdf`` queued on issue), then the batch (``request_batch`` → ``make_batch``) merges
    them into one PDF.  Meanwhile this process requests the petition page with the test client in a
    loop: its p50/p95 before the worker starts, while the worker converts, and while it merges show
    that the web side is not blocked.

The database is made afresh each run (SQLite file, or the DATABASE_URL database dropped and created).
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-documents"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(round(len(ordered) * q)) - 1))]


def summary(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (
        f"n={len(samples)}  p50 {statistics.median(samples):7.1f} ms  p95 {pct(samples, 0.95):7.1f} ms  "
        f"max {max(samples):7.1f} ms"
    )


def prepare() -> dict[str, str]:
    VAR.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        server, db = url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{db}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            (VAR / f"xinfang.sqlite3{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{VAR / 'xinfang.sqlite3'}"
    keys = VAR / "secrets.env"
    keys.write_text(
        f"SECRET_KEY={secrets.token_urlsafe(50)}\nXINFANG_FIELD_KEYS={Fernet.generate_key().decode()}\n"
        f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}\nXINFANG_AUDIT_KEY={secrets.token_urlsafe(32)}\n"
    )
    env = {
        "DATABASE_URL": url,
        "XINFANG_ENV_FILE": str(keys),
        "XINFANG_VAR_DIR": str(VAR),  # media, the machine's PDF server (var/pdfserver) of this run
        "DEBUG": "1",
        "ALLOWED_HOSTS": "testserver",
        "PYTHONWARNINGS": "ignore",
        "XINFANG_2FA_ENFORCED": "0",
        "XINFANG_PASSWORD_CHANGE_ENFORCED": "0",
        "XINFANG_WORKER_SCHEDULER": "false",  # only the jobs measured
    }
    run_env = {**os.environ, **env}
    xinfang = [sys.executable, "-m", "xinfang.cli"]
    print("== preparing the database (migrate, demo tree and accounts)", flush=True)
    subprocess.run([*xinfang, "migrate", "--noinput", "-v0"], env=run_env, cwd=ROOT, check=True)
    subprocess.run([*xinfang, "createcachetable"], env=run_env, cwd=ROOT, check=True)
    subprocess.run([*xinfang, "seed", "--demo", "--petitions", "0"], env=run_env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return env


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notices", type=int, default=1000, help="receipts in the batch (default 1000)")
    parser.add_argument("--repeat", type=int, default=30, help="warm conversions of the decision letter")
    args = parser.parse_args()
    env = prepare()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))  # tests.factories: the registration helper the tests use
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    django.setup()
    return measure(env, args.notices, args.repeat)


def measure(env: dict[str, str], notices: int, repeat: int) -> int:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from tests.factories import register

    from xinfang.core.files import open_plaintext
    from xinfang.documents import batches, pdf, services
    from xinfang.documents.models import BatchStatus, Document, DocumentBatch
    from xinfang.organisations.models import Organisation, User
    from xinfang.workflow import services as workflow

    print(f"database: {connection.vendor}; {os.cpu_count()} cores; python3-uno: {pdf.uno_python() or 'no'}")
    intake = User.objects.get(username="intake")
    handler = User.objects.get(username="handler")
    leader = User.objects.get(username="leader")
    office = intake.organisation
    locality = (
        Organisation.objects.filter(parent=leader.organisation, kind="government").order_by("pk").first()
        or leader.organisation
    )

    # --- (a) a decision letter ------------------------------------------------------------------
    number = register(office, intake, locality).petition.number
    workflow.assign(user=intake, number=number, unit=handler.organisation)
    workflow.unit_accept(user=handler, number=number)
    body = {"outcome": "support", "facts": "经查，某建筑工地拖欠二十三名农民工工资共计三十万元属实。",
            "basis": "《保障农民工工资支付条例》第十五条、第三十条",
            "opinion": "责成施工总承包单位于十日内足额支付拖欠工资，并将支付情况书面报告。"}  # fmt: skip
    letter = services.draft(user=handler, number=number, kind="decision_letter", body=body)
    if services.requires_approval(letter):
        services.approve(user=leader, document=letter)
    letter = services.issue(user=handler, document=letter)
    with open_plaintext(letter.docx_file) as reader:
        docx = reader.read()
    started = time.perf_counter()
    first_pdf = pdf.docx_to_pdf(docx)
    first = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = pdf.docx_to_pdf(docx)
        warm.append((time.perf_counter() - started) * 1000)
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(out)).pages)
    sizes = f"DOCX {len(docx) / 1024:.0f} KB → PDF {len(first_pdf) / 1024:.0f} KB, {pages} page(s)"
    print(f"\n(a) decision letter {letter.reference}: {sizes}")
    print(f"    first call (starts the machine's LibreOffice): {first:8.0f} ms")
    print(f"    warm docx_to_pdf:                               {summary(warm)}")

    # --- (b) N receipts, their PDFs and the batch on a real worker ----------------------------------
    print(f"\n(b) issuing {notices} receipts (worker stopped: their PDF jobs wait in the queue)", flush=True)
    started = time.perf_counter()
    sample_number = number
    for i in range(notices):
        petition_number = register(office, intake, locality).petition.number
        receipt = services.draft(user=intake, number=petition_number, kind="receipt")
        services.issue(user=intake, document=receipt)
        if (i + 1) % 200 == 0:
            print(f"    {i + 1} issued, {time.perf_counter() - started:.0f} s", flush=True)
    issued_s = time.perf_counter() - started
    print(f"    {notices} receipts issued in {issued_s:.0f} s ({notices / issued_s:.1f}/s, DOCX included)")

    client = Client()
    client.force_login(intake)
    url = f"/staff/petitions/{sample_number}/"

    def web(seconds: float | None = None, until=None) -> list[float]:
        samples: list[float] = []
        end = time.monotonic() + (seconds or 1e9)
        while time.monotonic() < end and not (until and until()):
            t = time.perf_counter()
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            samples.append((time.perf_counter() - t) * 1000)
            time.sleep(0.25)  # a busy office, not a load test: a few page views a second
        return samples

    idle = web(seconds=15)
    print(f"    petition page, worker idle:        {summary(idle)}")

    worker = subprocess.Popen(
        [sys.executable, "-m", "xinfang.cli", "worker"], env={**os.environ, **env}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        receipts = Document.objects.filter(kind="receipt", status="issued")
        started = time.perf_counter()

        def converted() -> bool:
            left = receipts.filter(pdf_file="").count()
            return left == 0

        during_pdfs = web(until=converted)
        pdfs_s = time.perf_counter() - started
        each = pdfs_s / notices * 1000
        print(f"    worker made {notices} receipt PDFs in {pdfs_s:.0f} s ({each:.0f} ms each)")
        print(f"    petition page, worker converting:  {summary(during_pdfs)}")

        today = timezone.localdate()
        started = time.perf_counter()
        batch = batches.request_batch(user=intake, kind="receipt", start=today, end=today)

        def finished() -> bool:
            return DocumentBatch.objects.filter(
                pk=batch.pk, status__in=[BatchStatus.DONE, BatchStatus.FAILED]
            ).exists()

        during_batch = web(until=finished)
        batch_s = time.perf_counter() - started
        batch.refresh_from_db()
        assert batch.status == BatchStatus.DONE, batch.error
        with open_plaintext(batch.pdf_file) as reader:
            merged = reader.read()
        merged_pages = len(PdfReader(io.BytesIO(merged)).pages)
        print(f"    batch of {batch.count} receipts merged by the worker in {batch_s:.1f} s: "
              f"{merged_pages} pages, {len(merged) / 1e6:.1f} MB")  # fmt: skip
        print(f"    petition page, worker merging:     {summary(during_batch)}")
    finally:
        worker.terminate()
        worker.wait(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
