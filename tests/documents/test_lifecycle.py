"""The life of a decision letter: draft, approve, issue (the reply happens), serve (the windows start)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.procedure import REPLY, new_registration, to_accepted
from xinfang.documents import services
from xinfang.documents.models import Document
from xinfang.petitions.choices import Status
from xinfang.petitions.models import Petition

pytestmark = pytest.mark.django_db


def test_decision_letter_from_draft_to_service(world):
    number = new_registration(world).petition.number
    to_accepted(world, number)
    body = dict(REPLY)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=body)
    assert document.status == "draft" and document.addressee
    with pytest.raises(services.DocumentRefused) as refused:
        services.issue(user=world.handler_a, document=document)
    assert refused.value.code == "approval_required"
    with pytest.raises(PermissionDenied):
        services.approve(user=world.handler_a, document=document)
    services.approve(user=world.leader_a, document=document)
    document = services.issue(user=world.handler_a, document=document)
    petition = Petition.objects.get(number=number)
    assert petition.status == Status.REPLIED
    assert document.reference.endswith(f"〔{timezone.localdate().year}〕1号")
    assert document.letter is not None and document.letter.served_on is None
    served = timezone.localdate()
    services.record_service(
        user=world.handler_a, document=document, method="post", served_on=served,
        detail={"tracking_number": "EMS123"},
    )  # fmt: skip
    document = Document.objects.get(pk=document.pk)
    assert document.letter.served_on == served
    assert Petition.objects.get(number=number).due_on > served + dt.timedelta(days=20)


def test_the_leader_returns_a_draft_with_what_to_change(world, client):
    from django.urls import reverse

    from xinfang.notifications.models import Notification

    number = new_registration(world).petition.number
    to_accepted(world, number)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=dict(REPLY))
    with pytest.raises(ValidationError):
        services.return_draft(user=world.leader_a, document=document, note=" ")
    with pytest.raises(PermissionDenied):
        services.return_draft(user=world.handler_a, document=document, note="改")
    client.force_login(world.leader_a)
    response = client.post(
        reverse("documents:approve", args=[document.pk]),
        {"note": "请补充法律依据的条款。", "decision": "return"},
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == "draft" and document.approved_by is None
    assert document.approval_note == "请补充法律依据的条款。"
    assert Notification.objects.filter(user=world.handler_a, kind="document.returned").exists()
    client.force_login(world.handler_a)
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert "请补充法律依据的条款。" in page and "returned-note" in page
    with pytest.raises(services.DocumentRefused):
        services.issue(user=world.handler_a, document=document)


def test_a_document_is_written_in_chinese_whatever_the_drafters_language(world):
    from django.utils import translation

    from xinfang.documents.rendering import context_for

    number = new_registration(world).petition.number
    to_accepted(world, number)
    with translation.override("en"):
        document = services.draft(
            user=world.handler_a, number=number, kind="decision_letter", body=dict(REPLY)
        )
        context = context_for(document)
    assert "请求复查" in document.body["review_notice"]
    assert context["outcome_label"] == "支持" and context["title"] == "处理意见书"
