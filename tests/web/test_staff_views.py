"""Staff pages: permission matrix, scoping, registration through the form, and query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Attachment, Petition, Petitioner

from ..factories import PASSWORD, PNG_BYTES, leaf_category, make_id_number, register

PNG = PNG_BYTES  # a real image: uploads are checked as whole files (issue #7 point 27)


def login(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def form_data(world, **overrides) -> dict:
    data = {
        "p-TOTAL_FORMS": "5",
        "p-INITIAL_FORMS": "0",
        "p-MIN_NUM_FORMS": "0",
        "p-MAX_NUM_FORMS": "5",
        "p-0-name": "李四",
        "p-0-id_number": make_id_number(),
        "p-0-phone": "13900001111",
        "p-0-address": "幸福路2号",
        "channel": "visit",
        "purpose": "request",
        "received_on": timezone.localdate().isoformat(),
        "headcount": "1",
        "title": "小区供水长期不正常",
        "content": "小区自今年八月以来经常停水，物业和供水公司互相推诿，请求解决。",
        "category": str(leaf_category().pk),
        "locality": str(world.a.township.pk),
        "subject_name": "",
    }
    data.update(overrides)
    return data


# --- permission matrix ---------------------------------------------------------------------------

STAFF_PAGES = [
    ("petitions:queue", {}, {"intake_a", "handler_a", "supervisor_a", "leader_a"}),
    ("petitions:register", {}, {"intake_a"}),
    ("organisations:tree", {}, {"sysadmin"}),
    ("organisations:import", {}, {"sysadmin"}),
    ("organisations:staff", {}, {"secadmin"}),
    ("audit:log", {}, {"auditor"}),
]


@pytest.mark.parametrize(("name", "kwargs", "allowed"), STAFF_PAGES)
def test_page_permission_matrix(client, world, name, kwargs, allowed):
    """Anonymous users are sent to login; each page opens for its roles only (三员分立 included)."""
    url = reverse(name, kwargs=kwargs)
    # given no login: then the login page
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    for username in ["intake_a", "handler_a", "supervisor_a", "leader_a", "sysadmin", "secadmin", "auditor"]:
        client.force_login(getattr(world, username))
        status = client.get(url).status_code
        assert status == (200 if username in allowed else 403), (username, status)


def test_detail_is_scoped_and_missing_equals_forbidden(client, world):
    """County B staff get the same 404 for A's petition as for a number that does not exist."""
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    login(client, world.intake_a)
    assert client.get(reverse("petitions:detail", args=[petition.number])).status_code == 200
    client.force_login(world.intake_b)
    forbidden = client.get(reverse("petitions:detail", args=[petition.number]))
    missing = client.get(reverse("petitions:detail", args=["XF-000000-2026-999999"]))
    assert forbidden.status_code == missing.status_code == 404
    # and the attachment and reveal routes too
    assert client.post(reverse("petitions:reveal", args=[petition.number])).status_code == 404


# The tables of the petition page's panels (core.page_memo's probes): a petition with nothing in
# them is shown without reading any of them on its own (issue #12 §3).
PANEL_TABLES = (
    "workflow_decisionletter", "workflow_appeal", "petitions_recusal", "supervision_supervisionnotice",
    "documents_document", "leadership_leadercontract", "leadership_instruction",
    "campaigns_campaigncase", "campaigns_reliefapplication", "exchange_referral",
    "exchange_outboundreferral", "information_informationreport",
)  # fmt: skip


def test_the_petition_page_asks_no_empty_panel_for_its_rows(client, world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    client.force_login(world.intake_a)
    url = reverse("petitions:detail", args=[petition.number])
    client.get(url)  # the first request of a session renews it; count a later one
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    own = [q["sql"] for q in ctx.captured_queries]
    # the table whose rows a statement loads (the page's own query names them all in its probes)
    first = {m.group(1) for sql in own if (m := re.match(r'SELECT (?:DISTINCT )?"(\w+)"\.', sql))}
    read = first & set(PANEL_TABLES)
    assert read == set()
    # one query for the petition and the answers of every probe; the rest: session, user, roles,
    # four prefetches, the audit of the view, the bell, the routing proposal and the form choices
    statements = [sql for sql in own if not sql.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 20, "\n".join(statements)


def test_a_panel_with_rows_still_shows_them(client, world):
    """The probe that finds rows answers nothing: the panel loads and shows them as before."""
    from xinfang.petitions.models import Recusal

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    Recusal.objects.create(
        petition=petition, user=world.handler_a, reason="与信访人系亲属关系", decided_by=world.intake_a
    )
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert "与信访人系亲属关系" in page


def test_queue_lists_counts_and_searches_only_own_scope(client, world):
    """A county B handler's queue, count and search never include county A petitions."""
    a = register(world.a.office, world.intake_a, world.a.township, title="甲县独有标题").petition
    register(world.b.office, world.intake_b, world.b.township)
    client.force_login(world.intake_b)
    response = client.get(reverse("petitions:queue"), {"q": "甲县独有标题"})
    assert response.context["page"].paginator.count == 0
    response = client.get(reverse("petitions:queue"), {"q": a.number})
    assert response.context["page"].paginator.count == 0
    assert reverse("petitions:detail", args=[a.number]) not in response.content.decode()
    response = client.get(reverse("petitions:queue"))
    assert response.context["page"].paginator.count == 1
    client.force_login(world.city_supervisor)
    assert client.get(reverse("petitions:queue")).context["page"].paginator.count == 2


def test_queue_filters_and_sort(client, world):
    register(world.a.office, world.intake_a, world.a.township, channel="visit", headcount=6)
    register(world.a.office, world.intake_a, world.a.township, channel="letter")
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:queue"), {"channel": "visit"}).context["page"]
    assert [p.channel for p in page] == ["visit"]
    page = client.get(reverse("petitions:queue"), {"collective": "on"}).context["page"]
    assert [p.is_collective for p in page] == [True]
    page = client.get(reverse("petitions:queue"), {"sort": "-registered_at"}).context["page"]
    assert page[0].registered_at >= page[1].registered_at


def test_queue_query_count_does_not_grow_with_rows(client, world):
    """No N+1: the queue costs the same number of queries for 2 rows as for 12."""
    client.force_login(world.intake_a)
    register(world.a.office, world.intake_a, world.a.township)
    register(world.a.office, world.intake_a, world.a.township)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("petitions:queue"))
    for _ in range(10):
        register(world.a.office, world.intake_a, world.a.township)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("petitions:queue"))
    assert len(many) == len(few)


# --- registration through the form -------------------------------------------------------------


def test_register_through_form_shows_query_code_once(client, world):
    login(client, world.intake_a)
    upload = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
    response = client.post(reverse("petitions:register"), {**form_data(world), "attachments": [upload]})
    assert response.status_code == 302
    petition = Petition.objects.get()
    assert petition.channel == "visit" and petition.attachments.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert 'id="query-code"' in page
    # the second visit no longer shows it
    assert 'id="query-code"' not in client.get(response["Location"]).content.decode()


def test_register_with_bad_input_shows_chinese_errors_and_stores_nothing(client, world):
    login(client, world.intake_a)
    before = (Petition.objects.count(), Petitioner.objects.count(), Attachment.objects.count())
    bad = SimpleUploadedFile("scan.png", b"not really a png", content_type="image/png")
    response = client.post(
        reverse("petitions:register"),
        {**form_data(world, **{"p-0-id_number": "330102198001010010", "title": ""}), "attachments": [bad]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "身份证号码校验位不正确" in html
    assert "内容与文件类型不符" in html
    assert (Petition.objects.count(), Petitioner.objects.count(), Attachment.objects.count()) == before


def test_register_asks_about_repeats_then_links(client, world):
    """The same ID number again: the clerk is shown the earlier petition and can mark a repeat."""
    id_number = make_id_number()
    first = register(world.a.office, world.intake_a, world.a.township).petition
    first.petitioners.update()  # no-op: the first petitioner has another ID
    login(client, world.intake_a)
    data = form_data(world, **{"p-0-id_number": id_number})
    client.post(reverse("petitions:register"), data)  # creates the earlier petition of this person
    earlier = Petition.objects.latest("registered_at")
    # when the same person comes again
    response = client.post(reverse("petitions:register"), data)
    # then the form comes back with the earlier petition to choose from
    assert response.status_code == 200
    assert earlier.number in response.content.decode()
    # and choosing it registers a repeat
    response = client.post(reverse("petitions:register"), {**data, "repeat_choice": earlier.number})
    assert response.status_code == 302
    latest = Petition.objects.latest("registered_at")
    assert latest.repeat_of == earlier and latest.is_repeat


def test_repeat_candidates_json_is_scoped(client, world):
    id_number = make_id_number()
    from xinfang.petitions.drafts import PetitionerDraft

    register(
        world.a.office,
        world.intake_a,
        world.a.township,
        petitioners=[PetitionerDraft(name="王五", id_number=id_number)],
    )
    client.force_login(world.intake_a)
    url = reverse("petitions:repeat_candidates")
    assert len(client.get(url, {"id_number": id_number}).json()["results"]) == 1
    client.force_login(world.intake_b)
    assert client.get(url, {"id_number": id_number}).json()["results"] == []


def test_reveal_and_view_are_audited(client, world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    client.force_login(world.supervisor_a)
    client.get(reverse("petitions:detail", args=[petition.number]))
    response = client.post(reverse("petitions:reveal", args=[petition.number]))
    full = petition.petitioners.get().id_number
    assert full in response.content.decode()
    actions = set(AuditEvent.objects.filter(actor=world.supervisor_a).values_list("action", flat=True))
    assert {"petition.view", "petition.reveal_personal_data"} <= actions


def test_attachment_download_is_scoped(client, world):
    upload = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
    petition = register(world.a.office, world.intake_a, world.a.township, attachments=[upload]).petition
    attachment = petition.attachments.get()
    url = reverse("petitions:attachment", args=[petition.number, attachment.pk])
    client.force_login(world.intake_a)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    client.force_login(world.intake_b)
    assert client.get(url).status_code == 404


# --- administration ---------------------------------------------------------------------------


def test_sysadmin_creates_and_imports_organisations(client, world):
    client.force_login(world.sysadmin)
    response = client.post(
        reverse("organisations:create"),
        {
            "parent": world.a.government.pk,
            "name": "甲县水利局",
            "kind": "department",
            "level": "county",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    csv_ok = "name,code,kind,level,parent_code,parent_name\n丙县人民政府,990103,government,county,990100,\n"
    response = client.post(
        reverse("organisations:import"), {"file": SimpleUploadedFile("orgs.csv", csv_ok.encode())}
    )
    assert response.status_code == 302
    bad = "name,code,kind,level,parent_code,parent_name\n丁县,990104,nonsense,county,990100,\n"
    response = client.post(
        reverse("organisations:import"), {"file": SimpleUploadedFile("o.csv", bad.encode())}
    )
    assert "第2行" in response.content.decode()


def test_secadmin_creates_staff_but_cannot_combine_admin_duties(client, world):
    client.force_login(world.secadmin)
    data = {
        "username": "newclerk",
        "full_name": "新登记员",
        "organisation": world.a.office.pk,
        "roles": ["intake"],
        "password": "Very-strong-Pw-2026",
    }
    assert client.post(reverse("organisations:staff_create"), data).status_code == 302
    # the account exists; its role waits for a second administrator (issue #7 point 16)
    assert world.secadmin.__class__.objects.get(username="newclerk").roles.count() == 0
    response = client.post(
        reverse("organisations:staff_create"),
        {**data, "username": "twohats", "roles": ["sysadmin", "auditor"]},
    )
    assert response.status_code == 200
    assert "不得由同一人兼任" in response.content.decode()


def test_auditor_reads_the_log(client, world):
    register(world.a.office, world.intake_a, world.a.township)
    client.force_login(world.auditor)
    response = client.get(reverse("audit:log"), {"action": "petition.register"})
    assert response.context["page"].paginator.count == 1


@override_settings(XINFANG_LOGIN_FAILURE_RATE="3/900")
def test_login_failures_lock_the_account_for_a_while_and_are_audited(client, world):
    """After 3 wrong passwords even the right one is refused, with a Chinese message; all audited."""
    cache.clear()
    url = reverse("login")
    for _ in range(3):
        response = client.post(url, {"username": "intake_a", "password": "wrong"})
        assert response.status_code == 200 and 'id="login-error"' in response.content.decode()
    response = client.post(url, {"username": "intake_a", "password": PASSWORD})
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.failed").count() == 3
    # the window ends (the throttle counts in core.Counter rows now, not in the cache)
    with freeze_time(timezone.now() + dt.timedelta(minutes=16)):
        response = client.post(url, {"username": "intake_a", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor=world.intake_a).exists()


def test_secadmin_requests_a_token_another_approves_it_sees_it_once_and_revokes_it(client, world):
    """Four-eyes for tokens (issue #7 point 16): the security administrator's request issues
    nothing; the system administrator's approval issues the token, shown once to the approver."""
    from xinfang.api.models import ApiToken
    from xinfang.organisations.models import GrantRequest
    from xinfang.organisations.services import create_staff

    hotline = create_staff(
        username="hotline12345",
        password=PASSWORD,
        organisation=world.a.office,
        roles=["intake"],
        is_system_account=True,
        bootstrap=True,
    )
    url = reverse("api-staff:tokens")
    client.force_login(world.intake_a)
    assert client.get(url).status_code == 403
    client.force_login(world.secadmin)
    response = client.post(
        url, {"user": hotline.pk, "name": "12345热线对接", "days": "30", "reason": "热线对接"}
    )
    grant = GrantRequest.objects.get(target=hotline)
    assert response.status_code == 302 and response.url == reverse("organisations:grant", args=[grant.pk])
    assert not ApiToken.objects.exists()
    # the requester cannot approve their own request
    response = client.post(reverse("organisations:grant", args=[grant.pk]), {"action": "approve"})
    assert "不能审批自己提出的申请" in response.content.decode()
    assert not ApiToken.objects.exists()
    # the system administrator approves and sees the token once
    client.force_login(world.sysadmin)
    response = client.post(
        reverse("organisations:grant", args=[grant.pk]), {"action": "approve", "reason": "同意"}
    )
    html = response.content.decode()
    token = ApiToken.objects.get(user=hotline)
    assert 'id="issued-token"' in html and token.prefix in html
    # the clear token works on the API
    clear = html.split('<p class="code">')[1].split("</p>")[0].strip()
    api = client.get("/api/v1/petitions", HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert api.status_code == 200
    assert (
        'id="issued-token"'
        not in client.get(reverse("organisations:grant", args=[grant.pk])).content.decode()
    )
    client.force_login(world.secadmin)
    assert 'id="issued-token"' not in client.get(url).content.decode()
    client.post(reverse("api-staff:revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/petitions", HTTP_AUTHORIZATION=f"Bearer {clear}").status_code == 401


def test_queue_count_stops_at_the_cap(client, world, monkeypatch):
    """Past the cap (QUEUE_COUNT_CAP, 1,000) the queue says "more than N" instead of counting every
    row in scope."""
    from xinfang.core import pagination
    from xinfang.petitions import views

    assert views.QUEUE_COUNT_CAP == pagination.QUEUE_COUNT_CAP == 1000
    for _ in range(4):
        register(world.a.office, world.intake_a, world.a.township)
    client.force_login(world.intake_a)
    monkeypatch.setattr(views, "QUEUE_COUNT_CAP", 3)
    response = client.get(reverse("petitions:queue"))
    assert response.context["page"].paginator.count == 3
    assert "超过 3 件" in response.content.decode()
    api = client.get("/api/v1/petitions", HTTP_AUTHORIZATION="Bearer none")
    assert api.status_code == 401
    monkeypatch.setattr(views, "QUEUE_COUNT_CAP", 4)
    response = client.get(reverse("petitions:queue"))
    assert response.context["page"].paginator.count_exact and "共 4 件" in response.content.decode()


def test_sysadmin_edits_the_category_tree(client, world):
    """Categories are configurable: add an entry, retire it; three levels are refused; audited."""
    from xinfang.petitions.models import Category

    root = Category.objects.get(code="01")
    client.force_login(world.intake_a)
    assert client.get(reverse("petitions:categories")).status_code == 403
    client.force_login(world.sysadmin)
    assert "城乡建设" in client.get(reverse("petitions:categories")).content.decode()
    response = client.post(
        reverse("petitions:category_create"),
        {"name": "老旧小区改造", "code": "0199", "parent": root.pk, "sort_order": 9, "is_active": "on"},
    )
    assert response.status_code == 302
    entry = Category.objects.get(code="0199")
    assert entry.parent == root
    # a third level is refused with a Chinese message, nothing saved
    response = client.post(
        reverse("petitions:category_create"),
        {"name": "三级", "code": "019901", "parent": entry.pk, "sort_order": 0},
    )
    assert response.status_code == 200 and not Category.objects.filter(code="019901").exists()
    # retiring it removes it from the registration form
    client.post(
        reverse("petitions:category_edit", args=[entry.pk]),
        {"name": "老旧小区改造", "code": "0199", "parent": root.pk, "sort_order": 9},
    )
    entry.refresh_from_db()
    assert not entry.is_active
    client.force_login(world.intake_a)
    assert "老旧小区改造" not in client.get(reverse("petitions:register")).content.decode()
    assert AuditEvent.objects.filter(action__in=["category.create", "category.change"]).count() == 2
