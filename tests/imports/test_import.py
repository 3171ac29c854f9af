"""xinfang.imports: old dates, final states, bad rows, re-import, repeats, encryption (issue #12 §2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from xinfang.audit.models import AuditEvent
from xinfang.imports import services
from xinfang.imports.models import ImportedRecord, ImportRun, RunStatus
from xinfang.petitions.choices import EventKind, Status
from xinfang.petitions.models import Involvement, NumberSequence, Petition, Petitioner, PetitionEvent
from xinfang.petitions.services import register_petition
from xinfang.workflow.models import Assignment, DecisionLetter

from ..factories import make_draft, make_id_number
from .helpers import csv_bytes, row, xlsx_bytes

pytestmark = pytest.mark.django_db


def run_file(world, data: bytes, *, source: str = "旧系统", dry_run: bool = False, fmt: str = "csv"):
    run = ImportRun.objects.create(
        office=world.a.office, source=source, file_format=fmt, created_by=world.intake_a, dry_run=dry_run
    )
    outcome = services.execute(run, data, actor=world.intake_a)
    run.refresh_from_db()
    return run, outcome


def counts() -> tuple[int, ...]:
    return (
        Petition.objects.count(),
        Petitioner.objects.count(),
        PetitionEvent.objects.count(),
        Involvement.objects.count(),
        DecisionLetter.objects.count(),
        ImportedRecord.objects.count(),
        AuditEvent.objects.filter(action="petition.import").count(),
    )


def test_a_2009_petition_is_imported_and_the_clerk_form_still_refuses_it(world):
    run, outcome = run_file(world, csv_bytes([row(world, "A-1", 收到日期="2009-03-16")]))
    assert (run.status, run.imported, run.rejected) == (RunStatus.DONE, 1, 0)
    petition = Petition.objects.get()
    assert petition.received_on == dt.date(2009, 3, 16)
    assert petition.number.startswith("XF-") and "-2009-" in petition.number
    assert petition.registered_at.date() == dt.date(2009, 3, 16)
    with pytest.raises(ValidationError) as refused:
        register_petition(
            draft=make_draft(world.a.township, received_on=dt.date(2009, 3, 16)),
            office=world.a.office,
            actor=world.intake_a,
        )
    assert "received_on" in refused.value.message_dict


@pytest.mark.parametrize(
    ("status_label", "status", "final_kind"),
    [
        ("已登记", Status.REGISTERED, None),
        ("已转送", Status.FORWARDED, EventKind.FORWARDED),
        ("已交办", Status.ASSIGNED, EventKind.ASSIGNED),
        ("已受理", Status.ACCEPTED, EventKind.ACCEPTED),
        ("已答复", Status.REPLIED, EventKind.REPLIED),
        ("不予受理", Status.DECLINED, EventKind.DECLINED),
        ("已告知其他途径", Status.REDIRECTED, EventKind.REDIRECTED),
        ("已终结", Status.CONCLUDED, EventKind.CONCLUDED),
        ("办结", Status.CONCLUDED, EventKind.CONCLUDED),
        ("已撤回", Status.WITHDRAWN, EventKind.WITHDRAWN),
    ],
)
def test_each_importable_state(world, status_label, status, final_kind):
    unit = world.a.department.name if status in (Status.FORWARDED, Status.ASSIGNED, Status.ACCEPTED) else ""
    run, _outcome = run_file(
        world, csv_bytes([row(world, "S-1", 状态=status_label, 责任单位=unit, 处理说明="说明")])
    )
    assert run.imported == 1, run.errors
    petition = Petition.objects.get()
    assert petition.status == status
    kinds = list(petition.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[0] == EventKind.REGISTERED
    if final_kind:
        assert final_kind in kinds
    assert petition.events.get(kind=EventKind.REGISTERED).data["source_id"] == "S-1"
    assert Involvement.objects.filter(petition=petition, organisation=world.a.office).exists()
    if unit:
        assert Assignment.objects.get(petition=petition).unit == world.a.department
        assert Involvement.objects.filter(petition=petition, organisation=world.a.department).exists()
        assert petition.due_on is not None
    if status in (Status.REPLIED, Status.CONCLUDED):
        letter = DecisionLetter.objects.get(petition=petition)
        assert "管网改造" in letter.opinion
        assert letter.served_on == dt.date(2009, 4, 20)
    if status == Status.CONCLUDED:
        assert petition.concluded_on == dt.date(2009, 4, 20) and petition.conclusion
    if status in (Status.DECLINED, Status.REDIRECTED, Status.CONCLUDED, Status.WITHDRAWN):
        assert petition.due_on is None
    # Visible to the office's clerk, as a registered petition is.
    assert Petition.objects.restrict(world.intake_a).filter(pk=petition.pk).exists()
    assert not Petition.objects.restrict(world.intake_b).filter(pk=petition.pk).exists()


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"标题": ""}, "标题"),
        ({"身份证号": "330102198001011235"}, "身份证号"),
        ({"问题类别": "没有这个分类"}, "问题类别"),
        ({"收到日期": "2009-13-45"}, "收到日期"),
        ({"收到日期": "去年"}, "收到日期"),
        ({"状态": "复查中"}, "状态"),
        ({"状态": "已转送", "责任单位": ""}, "责任单位"),
        ({"状态": "已答复", "答复意见": ""}, "答复意见"),
        ({"办结日期": "2008-01-01"}, "办结日期"),
        ({"内容": "太短"}, "内容"),
        (
            {"信访目的": "检举控告", "被反映单位": "甲县人社局", "责任单位": "甲县人社局", "状态": "已转送"},
            "责任单位",
        ),  # fmt: skip
        ({"责任单位": "乙县人社局", "状态": "已转送"}, "责任单位"),
    ],
)
def test_a_bad_row_is_reported_and_leaves_nothing(world, values, column):
    before = counts()
    good = row(world, "G-1")
    run, outcome = run_file(world, csv_bytes([good, row(world, "B-1", **values)]))
    assert (run.imported, run.rejected) == (1, 1)
    assert [(e["row"], e["column"]) for e in run.errors] == [(3, column)]
    assert run.errors[0]["message"]
    assert not ImportedRecord.objects.filter(source_id="B-1").exists()
    after = counts()
    assert after[0] == before[0] + 1 and after[5] == before[5] + 1


def test_duplicate_source_id_within_the_file(world):
    run, _ = run_file(world, csv_bytes([row(world, "D-1"), row(world, "D-1", 标题="另一件")]))
    assert (run.imported, run.rejected) == (1, 1)
    assert run.errors[0]["column"] == "来源编号" and "第2行" in run.errors[0]["message"]


def test_reimport_changes_nothing(world):
    data = csv_bytes([row(world, "R-1"), row(world, "R-2", 收到日期="2012-05-01", 办结日期="2012-06-01")])
    first, _ = run_file(world, data)
    assert first.imported == 2
    before = counts()
    sequences = list(NumberSequence.objects.values_list("year", "last"))
    second, _ = run_file(world, data)
    assert (second.imported, second.skipped, second.rejected) == (0, 2, 0)
    assert counts() == before
    assert list(NumberSequence.objects.values_list("year", "last")) == sequences
    # Another office's run with the same source name does not take these rows for its own.
    other = ImportRun.objects.create(
        office=world.b.office, source="旧系统", file_format="csv", created_by=world.intake_b
    )
    services.execute(
        other, csv_bytes([row(world, "R-1", 问题属地=world.b.township.code)]), actor=world.intake_b
    )
    other.refresh_from_db()
    assert (other.imported, other.skipped) == (1, 0)


def test_repeat_links_by_person(world):
    person = make_id_number()
    stranger = make_id_number()
    data = csv_bytes(
        [
            row(world, "P-3", 身份证号=person, 收到日期="2011-01-05", 办结日期="2011-02-01"),
            row(world, "P-1", 身份证号=person, 收到日期="2009-01-05", 办结日期="2009-02-01"),
            row(world, "P-2", 身份证号=stranger, 收到日期="2010-01-05", 办结日期="2010-02-01"),
        ]
    )
    run, _ = run_file(world, data)
    assert run.imported == 3
    first = ImportedRecord.objects.get(source_id="P-1").petition
    later = ImportedRecord.objects.get(source_id="P-3").petition
    other = ImportedRecord.objects.get(source_id="P-2").petition
    assert later.repeat_of == first and later.is_repeat
    assert later.events.filter(kind=EventKind.REPEAT_LINKED).exists()
    assert first.repeat_of is None and other.repeat_of is None
    # Numbers of a year follow the received dates (the file was not in order).
    assert first.number.endswith("2009-000001") and later.number.endswith("2011-000001")
    # A later file links to what an earlier run imported.
    run2, _ = run_file(
        world, csv_bytes([row(world, "P-4", 身份证号=person, 收到日期="2013-01-05", 办结日期="2013-02-01")])
    )
    assert ImportedRecord.objects.get(source_id="P-4").petition.repeat_of == later


def test_personal_data_is_encrypted(world):
    id_number = make_id_number()
    run_file(
        world, csv_bytes([row(world, "E-1", 身份证号=id_number, 电话="13987654321", 地址="幸福路秘密88号")])
    )
    person = Petitioner.objects.get()
    assert person.id_number == id_number  # decrypted by the field
    assert person.id_number_mask == id_number[:4] + "**********" + id_number[-4:]
    assert person.id_number_hash and person.phone_hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, address FROM petitions_petitioner")
        stored = cursor.fetchone()
    for raw in (id_number, "13987654321", "幸福路秘密88号"):
        assert all(raw not in str(value) for value in stored)


def test_kept_numbers_and_the_current_year_sequence(world):
    from django.utils import timezone

    year = timezone.localdate().year
    prefix = Petition(office=world.a.office).office and None  # noqa: F841
    from xinfang.petitions.services import office_code

    code = office_code(world.a.office)
    rows = [
        row(world, "N-1", 信访件编号=f"XF-{code}-2009-000042"),
        row(world, "N-2", 信访件编号="OLD/2009/7"),
        row(
            world,
            "N-3",
            信访件编号=f"XF-{code}-{year}-000005",
            收到日期=f"{year}-01-02",
            办结日期=f"{year}-01-03",
        ),
    ]
    run, _ = run_file(world, csv_bytes(rows))
    assert run.imported == 3, run.errors
    assert ImportedRecord.objects.get(source_id="N-1").petition.number == f"XF-{code}-2009-000042"
    renumbered = ImportedRecord.objects.get(source_id="N-2")
    assert renumbered.original_number == "OLD/2009/7"
    assert renumbered.petition.number == f"XF-{code}-2009-000043"  # after the highest kept one
    # The current year's sequence continues after the kept number: a clerk's next one is 000006.
    clerk = register_petition(draft=make_draft(world.a.township), office=world.a.office, actor=world.intake_a)
    assert clerk.petition.number == f"XF-{code}-{year}-000006"
    # A kept number already in use is refused.
    again, _ = run_file(world, csv_bytes([row(world, "N-9", 信访件编号=f"XF-{code}-2009-000042")]))
    assert (again.imported, again.rejected) == (0, 1) and again.errors[0]["column"] == "信访件编号"


def test_xlsx_and_gbk_csv_and_dry_run(world):
    run, _ = run_file(
        world,
        xlsx_bytes([row(world, "X-1", 收到日期=dt.date(2008, 8, 8), 办结日期=dt.datetime(2008, 9, 1))]),
        fmt="xlsx",
    )
    assert run.imported == 1, run.errors
    assert Petition.objects.get().received_on == dt.date(2008, 8, 8)
    run, _ = run_file(world, csv_bytes([row(world, "G-1")], encoding="gb18030"))
    assert run.imported == 1, run.errors
    before = counts()
    dry, _ = run_file(world, csv_bytes([row(world, "DRY-1"), row(world, "DRY-2", 标题="")]), dry_run=True)
    assert (dry.status, dry.imported, dry.rejected, dry.total) == (RunStatus.CHECKED, 0, 1, 2)
    assert counts() == before


def test_missing_required_columns_refuse_the_file(world):
    run = ImportRun.objects.create(
        office=world.a.office, source="s", file_format="csv", created_by=world.intake_a
    )
    with pytest.raises(services.ImportRefused, match="标题"):
        services.execute(run, "来源编号,收到日期\nA,2009-01-01\n".encode(), actor=world.intake_a)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "标题" in run.failure


def test_audit_one_event_per_run_and_one_per_batch_naming_its_petitions(world):
    run, outcome = run_file(world, csv_bytes([row(world, "AU-1"), row(world, "AU-2")]))
    assert AuditEvent.objects.filter(action="import.run", object_id=str(run.pk)).count() == 1
    batch = AuditEvent.objects.get(action="petition.import")
    assert sorted(p[2] for p in batch.data["petitions"]) == ["AU-1", "AU-2"]
    assert sorted(p[0] for p in batch.data["petitions"]) == sorted(outcome.petitions)


def test_the_bulk_hook_indexes_for_search_and_marks_statistics_days(world):
    from django.apps import apps

    from xinfang.imports.signals import petitions_imported

    seen = []

    def listener(sender, *, run, petition_ids, days, **kwargs):
        seen.append((run.pk, sorted(petition_ids), days))

    petitions_imported.connect(listener)
    try:
        data = csv_bytes([row(world, "H-1", 收到日期="2010-02-03", 办结日期="2010-03-04")])
        run, outcome = run_file(world, data)
    finally:
        petitions_imported.disconnect(listener)
    assert seen == [(run.pk, outcome.petitions, seen[0][2])]
    assert {dt.date(2010, 2, 3), dt.date(2010, 3, 4)} <= seen[0][2]
    if apps.is_installed("xinfang.search"):
        from xinfang.search.models import PetitionText

        assert PetitionText.objects.filter(petition_id__in=outcome.petitions).count() == 1
    if apps.is_installed("xinfang.stats"):
        from xinfang.stats.models import DirtyDay

        assert DirtyDay.objects.filter(day=dt.date(2010, 2, 3)).exists()


def test_a_failing_batch_falls_back_to_rows(world, monkeypatch):
    """A row that fails while writing (here: made to) is rejected alone; its batch-mates are written."""
    real = services._Writer.write

    def write(self, plans):
        if any(p.source_id == "F-2" for p in plans):
            real(self, plans)  # the batch's writes happen, then it fails: all rolled back
            raise RuntimeError("boom")
        return real(self, plans)

    monkeypatch.setattr(services._Writer, "write", write)
    before = counts()
    run, _ = run_file(world, csv_bytes([row(world, "F-1"), row(world, "F-2"), row(world, "F-3")]))
    assert (run.imported, run.rejected) == (2, 1)
    assert run.errors[0]["source_id"] == "F-2"
    assert counts()[0] == before[0] + 2
    assert not ImportedRecord.objects.filter(source_id="F-2").exists()
    assert Petitioner.objects.count() == before[1] + 2
