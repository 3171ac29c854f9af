"""The monthly report and the Art. 41 annual report (issue #9 §6): generated on a small world with
known answers, parsed back with python-docx; the charts are in the document; an office's own
template is refused when docxtpl cannot fill it; who may generate and who may upload."""

from __future__ import annotations

import datetime as dt
import io
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Category
from xinfang.stats import charts, figures, reports, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.stats.models import ReportTemplate
from xinfang.workflow import services

from ..factories import PASSWORD, make_draft, make_staff
from ..procedure import to_replied

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 1, 10)  # the annual report of 2025 is written in January 2026 (Art. 41)


@contextmanager
def on(day: dt.date):
    with freeze_time(dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)):
        yield


@dataclass
class Known:
    world: object
    housing: Category  # an entry of the first class
    labour: Category  # an entry of the second class


def _register(world, office, clerk, locality, day: dt.date, category: Category, **values) -> str:
    draft = make_draft(locality, received_on=day, category_id=category.pk, **values)
    with on(day):
        return services.register(draft=draft, office=office, actor=clerk).petition.number


@pytest.fixture
def known(world) -> Known:
    """County A, 2025: March — a letter (replied two days later) and a collective visit of 6;
    July — two suggestions (phone, online).  March 2024: one letter (for 同比).  County B, March
    2025: one letter (in the city's figures, not county A's)."""
    first, second = Category.objects.filter(parent__isnull=True).order_by("code")[:2]
    housing, labour = first.children.order_by("code").first(), second.children.order_by("code").first()
    a = world.a
    letter = _register(
        world,
        a.office,
        world.intake_a,
        a.township,
        dt.date(2025, 3, 10),
        housing,
        subject_organisation_id=a.department.pk,
    )
    _register(
        world,
        a.office,
        world.intake_a,
        a.township,
        dt.date(2025, 3, 11),
        housing,
        channel="visit",
        headcount=6,
    )
    _register(world, a.office, world.intake_a, a.township, dt.date(2025, 7, 5), labour, channel="phone",
              purpose="suggestion", title="建议增设城关镇至县城的公交线路")  # fmt: skip
    _register(world, a.office, world.intake_a, a.township, dt.date(2025, 7, 6), labour, channel="online",
              purpose="suggestion", title="建议延长政务服务大厅周末开放时间")  # fmt: skip
    _register(world, a.office, world.intake_a, a.township, dt.date(2024, 3, 12), housing)
    _register(world, world.b.office, world.intake_b, world.b.township, dt.date(2025, 3, 12), housing)
    with on(dt.date(2025, 3, 12)):
        to_replied(world, letter)
    rollup.refresh()
    return Known(world, housing, labour)


def _parse(content: bytes):
    document = docx.Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return document, text, tables


def _row(tables, label: str) -> list[str]:
    """The first table row whose first cell is ``label``."""
    for table in tables:
        for row in table:
            if row[0] == label:
                return row
    raise AssertionError(f"no row {label!r}")


def _table_with(tables, header: str) -> list[list[str]]:
    return next(t for t in tables if t[0][0] == header)


def test_annual_report_states_the_known_figures(known):
    # given the known world
    world = known.world
    # when county A's office writes its 2025 annual report
    report = reports.build_report(
        kind="annual", area=world.a.government, year=2025, user=world.intake_a, today=TODAY
    )
    document, text, tables = _parse(reports.render_docx(report))
    # then the numbers received: 4 batches (批), 1 + 6 + 1 + 1 persons (人次), 1 collective visit of 6
    assert _row(tables, "信访总量（批次）")[1:] == ["批", "4", "1", "上升300.0%"]
    assert _row(tables, "信访总量（人次）")[1:] == ["人次", "9", "1", "上升800.0%"]
    assert _row(tables, "初信初访")[2] == "4"
    assert _row(tables, "集体访")[2] == "1"
    assert _row(tables, "集体访（人次）")[2] == "6"
    assert _row(tables, "来访")[1:4] == ["1", "6", "25.0%"]  # by channel: batches, persons, share
    assert _row(tables, "来信")[1] == "1"
    # where they arose and what about: two classes, two batches each; all in 城关镇
    classes = _table_with(tables, "问题分类")
    assert sorted((r[0], r[1]) for r in classes[1:]) == sorted(
        [(known.housing.parent.name, "2"), (known.labour.parent.name, "2")]
    )
    assert _row(tables, world.a.township.name)[1:3] == ["4", "100.0%"]
    # how they were handled: one reply (支持), closure rate 1 of 4
    assert _row(tables, "支持")[1] == "1"
    assert _row(tables, "办结率")[1:4] == ["1", "4", "25.0%"]
    assert "本期出具书面答复1件，办结1件（应办结4件）" in text
    assert "转送有关地方和部门0件，交办1件" in text  # the letter was assigned (交办) to the department
    # petitioners' suggestions: two, with their titles
    assert "意见建议类信访事项2批" in text
    assert "建议增设城关镇至县城的公交线路" in text and "建议延长政务服务大厅周末开放时间" in text
    # the recommendations adopted are left for the office, clearly marked
    assert "【请信访部门填写" in text
    # the official-document frame: title, addressee, signing office
    assert "甲县2025年度信访工作报告" in text
    assert "县委、县政府：" in text
    assert world.a.office.name in text
    # both charts are pictures in the document
    assert len(document.inline_shapes) == 2
    images = [p for p in document.part.package.parts if p.content_type == "image/png"]
    assert len(images) == 2 and all(p.blob.startswith(b"\x89PNG") for p in images)


def test_units_complained_about_leave_out_confidential_reports(known):
    """Art. 41's 被反映较多的单位: the letter about county A's department counts; a confidential
    report (检举控告) accusing the same department does not (it would tell the unit it is accused)."""
    world = known.world
    accused = {
        "purpose": "report",
        "subject_organisation_id": world.a.department.pk,
        "title": "检举某局干部收受礼金",
    }
    _register(
        world, world.a.office, world.intake_a, world.a.township, dt.date(2025, 8, 1), known.housing, **accused
    )
    rollup.refresh()
    report = reports.build_report(
        kind="annual", area=world.a.government, year=2025, user=world.intake_a, today=TODAY
    )
    _document, _text, tables = _parse(reports.render_docx(report))
    assert _row(tables, "信访总量（批次）")[2] == "5"  # the report is counted as received …
    assert _table_with(tables, "被反映单位")[1:] == [
        [world.a.department.name, "1", "20.0%"]
    ]  # … not against the unit


def test_every_rate_in_the_report_equals_the_statistics(known):
    """The report's rate table is figures.rates of figures.counts, row by row."""
    world = known.world
    report = reports.build_report(
        kind="annual", area=world.a.government, year=2025, user=world.intake_a, today=TODAY
    )
    _document, _text, tables = _parse(reports.render_docx(report))
    names = reports.REPORT_RATES
    scope = Slice(scope=world.a.government.path)
    totals = figures.counts(figures.rate_metrics(names), Period.year(2025), scope, today=TODAY)[None]
    for rate in figures.rates(totals, names):
        assert _row(tables, rate.label)[1:4] == [str(rate.numerator), str(rate.denominator), rate.percent], (
            rate.name
        )


def test_monthly_report_for_the_city_counts_both_counties(known):
    world = known.world
    # when the city's office writes the March 2025 report
    report = reports.build_report(
        kind="monthly", area=world.city, year=2025, month=3, user=world.city_supervisor, today=TODAY
    )
    document, text, tables = _parse(reports.render_docx(report))
    # then March has county A's letter and visit and county B's letter; February had none (环比 —);
    # March 2024 had one (同比 +200%)
    assert _row(tables, "信访总量（批次）")[1:] == ["批", "3", "0", "—", "1", "上升200.0%"]
    assert _row(tables, "甲县")[1] == "2"  # the places, as the city's counties side by side
    assert _row(tables, "乙县")[1] == "1"
    assert "A市2025年3月信访工作情况" in text
    assert "市委、市政府：" in text
    assert len(document.inline_shapes) == 2


def test_the_number_of_queries_does_not_grow_with_the_petitions(known, django_assert_max_num_queries):
    """Counts come from the roll-up and breakdowns are GROUP BYs: no query per petition."""
    world = known.world
    with django_assert_max_num_queries(24):
        reports.build_report(
            kind="annual", area=world.city, year=2025, user=world.city_supervisor, today=TODAY
        )


def test_suggestion_titles_only_from_what_the_user_may_see(known):
    """The counts cover the area; the titles come from the user's own scope (a county B clerk
    writing for the city would not see county A's titles)."""
    world = known.world
    report = reports.build_report(kind="annual", area=world.city, year=2025, user=world.intake_b, today=TODAY)
    assert report.context["suggestion_total"] == 2
    assert report.context["suggestion_titles"] == []


def test_a_period_without_petitions_still_makes_a_report(world):
    report = reports.build_report(kind="monthly", area=world.b.government, year=2020, month=2, today=TODAY)
    document, text, tables = _parse(reports.render_docx(report))
    assert _row(tables, "信访总量（批次）")[1:] == ["批", "0", "0", "—", "0", "—"]
    assert "本期未登记信访事项。" in text
    assert len(document.inline_shapes) == 2
    assert document.core_properties.title == "乙县2020年2月信访工作情况"


def test_the_report_builds_without_a_cjk_font(known, caplog, tmp_path):
    world = known.world
    charts._find_font.cache_clear()
    with (
        override_settings(XINFANG_CJK_FONT=str(tmp_path / "missing.ttc")),
        caplog.at_level(logging.WARNING, logger="xinfang.stats.charts"),
    ):
        from unittest import mock

        installed = charts.font_manager.fontManager.ttflist
        without_cjk = [entry for entry in installed if "CJK" not in entry.name]
        with (
            mock.patch.object(charts, "DEFAULT_FONT", str(tmp_path / "absent.ttc")),
            mock.patch.object(charts.font_manager.fontManager, "ttflist", without_cjk),
        ):
            content = reports.render_docx(
                reports.build_report(kind="monthly", area=world.a.government, year=2025, month=3, today=TODAY)
            )
    charts._find_font.cache_clear()
    assert "fonts-noto-cjk" in caplog.text
    assert len(docx.Document(io.BytesIO(content)).inline_shapes) == 2


# --- the pages ----------------------------------------------------------------------------------------


def login(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("leader_a", True), ("supervisor_a", True), ("intake_a", True), ("handler_a", False),
     ("sysadmin", False), ("auditor", False)],
)  # fmt: skip
def test_who_may_generate_reports(client, world, who, allowed):
    login(client, getattr(world, who))
    response = client.get(reverse("stats:report_index"))
    assert response.status_code == (200 if allowed else 403)


def test_an_intake_clerk_outside_a_petition_office_may_not(client, world):
    clerk = make_staff("unit_clerk", world.a.department, "intake")
    login(client, clerk)
    assert client.get(reverse("stats:report_index")).status_code == 403


def test_anonymous_goes_to_the_login_page(client, world):
    response = client.get(reverse("stats:report_index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_download_streams_the_docx_with_a_chinese_name_and_is_audited(client, known):
    world = known.world
    login(client, world.leader_a)
    with on(TODAY):
        response = client.get(reverse("stats:report_download"), {"a-kind": "annual", "a-year": "2025"})
    assert response.status_code == 200
    assert response["Content-Type"] == reports.DOCX_TYPE
    disposition = response["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("''", 1)[1]) == "甲县2025年度信访工作报告.docx"
    _document, _text, tables = _parse(response.content)
    assert _row(tables, "信访总量（批次）")[2] == "4"
    event = AuditEvent.objects.filter(action="stats.report").latest("pk")
    assert event.actor == world.leader_a and event.data["kind"] == "annual"
    assert event.object_id == str(world.a.government.pk)


def test_a_monthly_report_needs_a_month_and_says_so_in_chinese(client, world):
    login(client, world.supervisor_a)
    response = client.get(reverse("stats:report_download"), {"m-kind": "monthly", "m-year": "2025"})
    assert response.status_code == 400
    assert "月报请选择月份。" in response.content.decode()
    assert not AuditEvent.objects.filter(action="stats.report").exists()


def test_the_office_template_is_used_for_its_reports(client, known):
    world = known.world
    own = _template_with("本单位自定义月报：{{ title }}，共{{ intake_rows[0].value }}批。")
    reports.save_template(
        user=world.sysadmin, office=world.a.office, kind="monthly", filename="own.docx", content=own
    )
    login(client, world.supervisor_a)
    assert "使用本单位上传的月报模板" in client.get(reverse("stats:report_index")).content.decode()
    with on(TODAY):
        response = client.get(
            reverse("stats:report_download"), {"m-kind": "monthly", "m-year": "2025", "m-month": "3"}
        )
    _document, text, _tables = _parse(response.content)
    assert "本单位自定义月报：甲县2025年3月信访工作情况，共2批。" in text


# --- an office's own template ---------------------------------------------------------------------------


def _template_with(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    """A small .docx whose document part unpacks to 60 MB."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (60 * 1024 * 1024))
    return out.getvalue()


def test_the_committed_templates_are_what_build_py_makes(tmp_path):
    """Change build.py, rerun it and commit the DOCX: the two must not drift apart."""
    import importlib.util
    import zipfile

    spec = importlib.util.spec_from_file_location("build", reports.TEMPLATE_DIR / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.build_annual(tmp_path)
    build.build_monthly(tmp_path)
    for kind in ("annual", "monthly"):
        with zipfile.ZipFile(tmp_path / f"{kind}.docx") as fresh, zipfile.ZipFile(
            reports.TEMPLATE_DIR / f"{kind}.docx"
        ) as committed:  # fmt: skip
            for part in ("word/document.xml", "word/styles.xml", "word/footer1.xml"):
                assert fresh.read(part) == committed.read(part), (kind, part)


def test_the_default_templates_pass_their_own_check():
    for kind in ("monthly", "annual"):
        reports.check_template(reports.default_template(kind))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a word file", "模板必须是Word文档（.docx）"),
        (b"PK\x03\x04broken zip", "模板必须是Word文档（.docx）"),
        (_zip_bomb, "模板文件解压后超过50MB"),  # built when the test runs, not at collection
        (_template_with("{{ title }", "{% for x in %}"), "模板无法生成报告"),
        (_template_with("{{ title }}{{ no_such_figure }}"), "模板使用了报告中没有的字段：no_such_figure"),
        # a template is code: the sandbox refuses what would reach Python's internals
        (_template_with("{{ title.__class__.__mro__[1].__subclasses__() }}"), "模板无法生成报告"),
    ],
)
def test_a_bad_template_is_refused_with_a_chinese_message(client, world, content, message):
    login(client, world.sysadmin)
    content = content() if callable(content) else content
    upload = SimpleUploadedFile("bad.docx", content, content_type=reports.DOCX_TYPE)
    response = client.post(
        reverse("stats:report_templates"), {"office": world.a.office.pk, "kind": "annual", "file": upload}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReportTemplate.objects.exists()
    assert not AuditEvent.objects.filter(action="stats.report_template").exists()


def test_sysadmin_uploads_downloads_and_deletes_a_template(client, world):
    login(client, world.sysadmin)
    good = _template_with("{{ title }}", "{{ summary }}")
    response = client.post(
        reverse("stats:report_templates"),
        {"office": world.a.office.pk, "kind": "annual", "file": SimpleUploadedFile("年报.docx", good)},
    )
    assert response.status_code == 302
    template = ReportTemplate.objects.get()
    assert (template.office, template.kind, bytes(template.content)) == (world.a.office, "annual", good)
    assert AuditEvent.objects.filter(action="stats.report_template", actor=world.sysadmin).count() == 1
    assert client.get(reverse("stats:report_template_file", args=[template.pk])).content == good
    default = client.get(reverse("stats:report_template_default", args=["annual"]))
    assert default.status_code == 200 and default.content == reports.default_template("annual")
    assert client.post(reverse("stats:report_template_delete", args=[template.pk])).status_code == 302
    assert not ReportTemplate.objects.exists()
    assert AuditEvent.objects.filter(action="stats.report_template.delete").count() == 1


def test_only_a_petition_office_gets_a_template(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="只能为信访部门设置"):
        reports.save_template(
            user=world.sysadmin, office=world.a.department, kind="annual", filename="x.docx",
            content=reports.default_template("annual"),
        )  # fmt: skip


@pytest.mark.parametrize("who", ["leader_a", "supervisor_a", "intake_a", "auditor"])
def test_only_the_system_administrator_manages_templates(client, world, who):
    login(client, getattr(world, who))
    assert client.get(reverse("stats:report_templates")).status_code == 403


@pytest.mark.parametrize(
    ("who", "link", "shown"),
    [("leader_a", "nav-reports", True), ("intake_a", "nav-reports", True),
     ("handler_a", "nav-reports", False), ("sysadmin", "nav-report-templates", True),
     ("leader_a", "nav-report-templates", False)],
)  # fmt: skip
def test_the_menu_offers_the_pages_to_those_who_may_open_them(client, world, who, link, shown):
    login(client, getattr(world, who))
    page = client.get(reverse("home"), follow=True).content.decode()
    assert (f'id="{link}"' in page) is shown
