"""The system administrator's template versions and settings: an upload makes the next document use
the new version while issued ones keep theirs; bad files are refused in Chinese; the prefix."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from docx import Document as Docx

from tests.procedure import REPLY, new_registration, to_accepted
from xinfang.audit.models import AuditEvent
from xinfang.documents import services, templates_admin
from xinfang.documents.models import DocumentTemplate, KindSetting
from xinfang.documents.rendering import default_template

pytestmark = pytest.mark.django_db

LETTER = {**REPLY, "request_summary": "请求补发拖欠的工资。"}
MARK = "（本模板为第二版）"


def _template_with(text: str) -> bytes:
    doc = Docx(io.BytesIO(default_template("decision_letter")))
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _issued_letter(world):
    number = new_registration(world).petition.number
    to_accepted(world, number)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=LETTER)
    services.approve(user=world.leader_a, document=document)
    return services.issue(user=world.handler_a, document=document)


def _docx_text(client, document) -> str:
    content = client.get(reverse("documents:docx", args=[document.pk])).content
    return "\n".join(p.text for p in Docx(io.BytesIO(content)).paragraphs)


def _upload(client, content: bytes, name: str = "处理意见书.docx"):
    return client.post(
        reverse("documents:template_upload", args=["decision_letter"]),
        {"file": SimpleUploadedFile(name, content), "note": "新版式"},
        follow=True,
    )


def test_an_uploaded_version_is_used_by_the_next_document_and_older_ones_keep_theirs(client, world):
    older = _issued_letter(world)
    client.force_login(world.sysadmin)
    page = client.get(reverse("documents:templates")).content.decode()
    assert 'id="in-use-decision_letter">默认模板<' in page
    response = _upload(client, _template_with(MARK + "{{ reference }}"))
    assert "第1版" in response.content.decode()
    assert 'id="in-use-decision_letter">第1版<' in response.content.decode()
    assert AuditEvent.objects.filter(action="document.template").exists()
    newer = _issued_letter(world)
    assert newer.template.version == 1 and older.template is None
    client.force_login(world.handler_a)
    assert MARK + newer.reference in _docx_text(client, newer)
    assert MARK not in _docx_text(client, older) and older.reference in _docx_text(client, older)
    # the administrator downloads the version in use and the default
    client.force_login(world.sysadmin)
    current = client.get(reverse("documents:template_download", args=["decision_letter"]))
    assert MARK in "\n".join(p.text for p in Docx(io.BytesIO(current.content)).paragraphs)
    default = client.get(reverse("documents:template_download", args=["decision_letter"]) + "?version=0")
    assert default.content == default_template("decision_letter")


def test_a_bad_template_is_refused_and_changes_nothing(client, world):
    client.force_login(world.sysadmin)
    response = _upload(client, b"not a word file", "x.docx")
    assert "模板必须是Word文档" in response.content.decode()
    response = _upload(client, _template_with("{{ no_such_name }}"))
    assert "模板使用了文书中没有的字段：no_such_name" in response.content.decode()
    response = _upload(client, _template_with("{% if %}"))
    assert "模板无法生成文书" in response.content.decode()
    assert not DocumentTemplate.objects.exists()


def test_the_sample_context_names_every_field_of_the_default_template():
    names = set(templates_admin.sample_context("decision_letter"))
    assert {"reference", "facts", "outcome_label", "review_notice", "date"} <= names
    templates_admin.check_template("decision_letter", default_template("decision_letter"))


def test_only_the_system_administrator_manages_templates_and_settings(client, world):
    client.force_login(world.leader_a)
    assert client.get(reverse("documents:templates")).status_code == 403
    assert client.get(reverse("documents:settings")).status_code == 403
    assert _upload(client, _template_with(MARK)).status_code == 403
    assert not DocumentTemplate.objects.exists()


def test_the_settings_page_changes_the_prefix_of_the_next_document(client, world):
    client.force_login(world.sysadmin)
    url = reverse("documents:settings")
    response = client.post(url, {"organisation": world.a.department.pk, "kind": "decision_letter",
                                 "prefix": "甲人社〔", "requires_approval": "on"})  # fmt: skip
    assert "文号前缀不含年份和括号" in response.content.decode() and "甲人社〔" in response.content.decode()
    response = client.post(url, {"organisation": world.a.department.pk, "kind": "decision_letter",
                                 "prefix": "甲人社处", "requires_approval": "on"}, follow=True)  # fmt: skip
    assert "甲人社处" in response.content.decode()
    setting = KindSetting.objects.get()
    assert (setting.prefix, setting.requires_approval) == ("甲人社处", True)
    assert AuditEvent.objects.filter(action="document.setting").exists()
    document = _issued_letter(world)
    assert document.reference == f"甲人社处〔{timezone.localdate().year}〕1号"
