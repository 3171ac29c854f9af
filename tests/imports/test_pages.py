"""The staff page of the history import: upload, check, import on the worker, progress, report."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from xinfang.imports.models import ImportedRecord, ImportRun, RunStatus
from xinfang.imports.tasks import run_import
from xinfang.petitions.models import Petition

from .helpers import csv_bytes, row, xlsx_bytes

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name: str = "history.csv", *, dry_run: bool = True, source: str = "旧系统"):
    form = {"file": SimpleUploadedFile(name, data), "source": source}
    if dry_run:
        form["dry_run"] = "on"
    return client.post(reverse("imports:list"), form)


def test_upload_check_then_import_on_the_worker(world, client, django_capture_on_commit_callbacks):
    client.force_login(world.intake_a)
    data = csv_bytes([row(world, "W-1"), row(world, "W-2", 身份证号="123")])
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = upload(client, data)
    assert len(queued) == 1  # the job, queued after the commit
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:detail", args=[run.pk])
    assert (run.status, run.total, run.rejected, Petition.objects.count()) == (RunStatus.CHECKED, 2, 1, 0)
    assert run.file  # kept (encrypted) for the import that follows the check
    with run.file.open("rb") as stored:
        assert b"W-1" not in stored.read()
    page = client.get(reverse("imports:detail", args=[run.pk]))
    assert "开始导入" in page.content.decode() and "身份证号" in page.content.decode()
    progress = client.get(reverse("imports:progress", args=[run.pk])).json()
    assert progress["status"] == "checked" and progress["rejected"] == 1 and progress["percent"] == 100
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.imported, run.rejected) == (RunStatus.DONE, 1, 1)
    assert not run.file  # personal data: deleted after the run
    assert ImportedRecord.objects.get().source_id == "W-1"
    # The report: row, source id, column and reason, in CSV and XLSX.
    report = client.get(reverse("imports:report", args=[run.pk, "csv"]))
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "来源编号", "列", "原因"] and lines[1][:3] == ["3", "W-2", "身份证号"]
    book = load_workbook(io.BytesIO(client.get(reverse("imports:report", args=[run.pk, "xlsx"])).content))
    header = [c.value for c in next(book.active.iter_rows(min_row=1, max_row=1))]
    assert header == ["行号", "来源编号", "列", "原因"]
    # The list of past runs.
    assert f"run-{run.pk}" in client.get(reverse("imports:list")).content.decode()


def test_direct_import_of_an_xlsx(world, client, django_capture_on_commit_callbacks):
    client.force_login(world.intake_a)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, xlsx_bytes([row(world, "X-1")]), "history.xlsx", dry_run=False)
    run = ImportRun.objects.get()
    assert (run.status, run.file_format, run.imported) == (RunStatus.DONE, "xlsx", 1)
    # A second delivery of the same job does nothing.
    assert run_import(run.pk) == "not queued"


def test_template_download(world, client):
    client.force_login(world.intake_a)
    response = client.get(reverse("imports:template"))
    book = load_workbook(io.BytesIO(response.content))
    headers = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    assert headers[0] == "来源编号*" and "答复意见" in headers
    assert "可选值" in book.sheetnames


def test_other_roles_and_offices_are_refused(world, client, django_capture_on_commit_callbacks):
    client.force_login(world.intake_a)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, csv_bytes([row(world, "O-1")]))
    run = ImportRun.objects.get()
    for user in (world.handler_a, world.supervisor_a, world.sysadmin, world.auditor):
        client.force_login(user)
        assert client.get(reverse("imports:list")).status_code == 403
        assert client.get(reverse("imports:progress", args=[run.pk])).status_code == 403
    client.force_login(world.intake_b)  # another county's clerk: the run is not found
    assert client.get(reverse("imports:list")).status_code == 200
    for name in ("detail", "progress"):
        assert client.get(reverse(f"imports:{name}", args=[run.pk])).status_code == 404
    assert client.get(reverse("imports:report", args=[run.pk, "csv"])).status_code == 404
    assert client.post(reverse("imports:start", args=[run.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("imports:list")).status_code == 302


def test_a_file_of_another_kind_is_refused(world, client):
    client.force_login(world.intake_a)
    response = upload(client, b"%PDF-1.4 ...", "history.pdf")
    assert response.status_code == 200 and "只能导入CSV或XLSX文件" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_run_whose_worker_died_is_resumed_by_the_redelivery(world, monkeypatch):
    """Killed inside its second batch (simulated: an interrupt that nothing catches), the run keeps
    its first batch, is left running and stops beating; the task's redelivery takes it over once
    the heartbeat is stale and imports the rest, counting the first batch as this run's."""
    import datetime as dt

    from django.utils import timezone

    from xinfang.imports import services, tasks

    run = services.create_run(
        office=world.a.office,
        actor=world.intake_a,
        upload=SimpleUploadedFile("h.csv", csv_bytes([row(world, f"K-{i}") for i in range(3)])),
        source="旧系统",
        dry_run=False,
    )
    monkeypatch.setattr(services, "BATCH_SIZE", 1)
    real = services._Writer.write
    calls = []

    def dying(self, plans):
        calls.append(plans[0].source_id)
        if len(calls) == 2:
            raise KeyboardInterrupt  # SIGKILL stand-in: the batch's transaction rolls back
        return real(self, plans)

    monkeypatch.setattr(services._Writer, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        tasks.run_import(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and ImportedRecord.objects.count() == 1
    assert tasks.run_import(run.pk) == "not queued"  # still beating: not taken over
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    monkeypatch.setattr(services._Writer, "write", real)
    assert tasks.run_import(run.pk).startswith("3 imported, 0 skipped")
    run.refresh_from_db()
    assert (run.status, run.imported, run.skipped, run.processed) == (RunStatus.DONE, 3, 0, 3)
    assert ImportedRecord.objects.filter(run=run).count() == 3 and not run.file


@pytest.mark.parametrize("status", ["已答复", "已终结", "已受理", "不予受理"])
def test_an_imported_petition_shows_and_prints_like_any_other(world, client, status):
    from xinfang.imports import services

    office = world.a.office
    run = ImportRun.objects.create(office=office, source="s", file_format="csv", created_by=world.intake_a)
    unit = world.a.department.name if status == "已受理" else ""
    services.execute(run, csv_bytes([row(world, "V-1", 状态=status, 责任单位=unit)]), actor=world.intake_a)
    petition = Petition.objects.get()
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[petition.number]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "历史导入" in text and petition.title in text
    if status in ("已答复", "已终结"):
        assert "管网改造" in text  # the reply's text, from the decision letter
    assert client.get(reverse("petitions:print", args=[petition.number])).status_code == 200
