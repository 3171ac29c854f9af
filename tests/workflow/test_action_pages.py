"""The action panel on the petition page and the POST behind each action."""

from __future__ import annotations

from django.urls import reverse

from ..factories import register


def test_office_sees_disposal_actions_and_forwards(client, world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    for action in ("forward", "assign", "accept", "decline", "redirect"):
        assert f'id="action-{action}"' in page
    response = client.post(
        reverse("workflow:act", args=[petition.number, "forward"]),
        {"version": petition.version, "unit": world.a.department.pk, "comment": "请办理"},
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "forwarded"
    # the unit's handler now sees the unit's actions, the office none
    client.force_login(world.handler_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="action-unit_accept"' in page and 'id="action-return"' in page
    # the office: no more disposal, no unit actions; only what stays open until the end
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="action-forward"' not in page and 'id="action-unit_accept"' not in page
    assert 'id="action-withdraw"' in page and 'id="action-report_urgent"' in page


def test_refused_action_shows_the_reason_and_changes_nothing(client, world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    client.force_login(world.intake_a)
    url = reverse("workflow:act", args=[petition.number, "decline"])
    response = client.post(url, {"version": petition.version, "reasons": ""}, follow=True)
    assert "请填写不予受理的理由" in response.content.decode()
    petition.refresh_from_db()
    assert petition.status == "registered" and petition.version == 1
    # a stale form (someone else acted first) is refused too
    client.post(url, {"version": petition.version, "reasons": "不属于信访事项"})
    response = client.post(
        reverse("workflow:act", args=[petition.number, "accept"]), {"version": 1}, follow=True
    )
    assert "已被他人更新" in response.content.decode()


def test_out_of_scope_action_is_404(client, world):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    client.force_login(world.intake_b)
    response = client.post(reverse("workflow:act", args=[petition.number, "accept"]), {"version": 1})
    assert response.status_code == 404


def test_handling_actions_through_the_panel(client, world):
    from xinfang.workflow import services

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    services.assign(user=world.intake_a, number=petition.number, unit=world.a.department)
    services.unit_accept(user=world.handler_a, number=petition.number)
    petition.refresh_from_db()
    client.force_login(world.handler_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="action-request_extension"' in page and 'id="action-reply"' in page
    assert 'id="document-step-reply"' in page and 'name="days"' in page  # the reply is its letter's page
    client.post(
        reverse("workflow:act", args=[petition.number, "request_extension"]),
        {"version": petition.version, "days": 10, "reasons": "需现场核查"},
    )
    # the county leader decides the request
    client.force_login(world.leader_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="action-approve_extension"' in page
    petition.refresh_from_db()
    client.post(
        reverse("workflow:act", args=[petition.number, "approve_extension"]), {"version": petition.version}
    )
    client.force_login(world.handler_a)
    petition.refresh_from_db()
    # The reply is the decision letter (issue #10): the panel's POST goes to its draft, replying nothing.
    response = client.post(
        reverse("workflow:act", args=[petition.number, "reply"]),
        {
            "version": petition.version,
            "outcome": "support",
            "facts": "经查属实",
            "basis": "有关规定",
            "opinion": "予以支持",
        },  # fmt: skip
    )
    assert response.url == reverse("documents:draft", args=[petition.number, "decision_letter"])
    petition.refresh_from_db()
    assert petition.status == "accepted" and petition.extension_requests.get().decision == "approved"


def test_the_petition_page_shows_the_decision_letter(client, world):
    from xinfang.workflow import services

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    services.accept(user=world.supervisor_a, number=petition.number)
    services.reply(user=world.supervisor_a, number=petition.number, outcome="support",
                   facts="经核查，工程款已拨付到位。", basis="《保障农民工工资支付条例》第三十条",
                   opinion="责令施工单位十日内足额支付。")  # fmt: skip
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert "处理意见书" in page and "责令施工单位十日内足额支付。" in page
