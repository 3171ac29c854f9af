"""xinfang import_petitions: the operator's door to the same service."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from xinfang.imports.models import ImportedRecord, ImportRun
from xinfang.petitions.models import Petition

from .helpers import csv_bytes, row, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_dry_run_then_import_then_again(world, tmp_path):
    path = tmp_path / "history.xlsx"
    path.write_bytes(xlsx_bytes([row(world, "C-1"), row(world, "C-2", 身份证号="12345")]))
    report = tmp_path / "rejected.csv"
    out = io.StringIO()
    args = [str(path), "--office", world.a.office.name, "--source", "旧系统", "--report", str(report)]
    call_command("import_petitions", *args, "--dry-run", stdout=out)
    assert "would import 1" in out.getvalue() and "rejected 1" in out.getvalue()
    assert not Petition.objects.exists()
    assert "身份证号" in report.read_text(encoding="utf-8-sig")
    out = io.StringIO()
    call_command("import_petitions", *args, stdout=out)
    assert "imported 1" in out.getvalue()
    assert ImportedRecord.objects.get().petition.registered_by == world.intake_a  # the office's clerk
    out = io.StringIO()
    call_command("import_petitions", *args, stdout=out)
    assert "imported 0" in out.getvalue() and "skipped 1" in out.getvalue()
    assert Petition.objects.count() == 1 and ImportRun.objects.count() == 3


def test_refusals(world, tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(csv_bytes([row(world, "C-1")]))
    with pytest.raises(CommandError, match="Several petition offices"):
        call_command("import_petitions", str(path))
    with pytest.raises(CommandError, match="No active account"):
        call_command("import_petitions", str(path), "--office", world.a.office.name, "--user", "intake_b")
    bad = tmp_path / "history.pdf"
    bad.write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError):
        call_command("import_petitions", str(bad), "--office", world.a.office.name)
