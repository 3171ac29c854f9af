"""Issue #8 §7: what the walk through a working day found (favicon, menu, labels, selects, audit page,
merge candidates, extension approval form, portal CAPTCHA and receipt)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_is_served(client):
    """/favicon.ico answers (a redirect to the static icon), and the icon file exists."""
    # when the browser asks for the icon
    response = client.get("/favicon.ico")
    # then it is sent to the static file, which is a real icon
    assert response.status_code == 302
    assert response["Location"].endswith("xinfang/favicon.ico")
    path = finders.find("xinfang/favicon.ico")
    with open(path, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # the ICO header


def test_routing_rules_in_the_administrators_menu(client, world):
    """The system administrator's menu links to 分办规则; other roles see no such link."""
    client.force_login(world.sysadmin)
    page = client.get(reverse("workflow:rules")).content.decode()
    assert reverse("workflow:routing_rules") in page
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:queue")).content.decode()
    assert reverse("workflow:routing_rules") not in page


def test_labels_selects_and_category_groups(client, world):
    """Labels end in "：", an empty select says "请选择" (never "---------"), and the categories of the
    registration form are grouped by their first-level class."""
    from xinfang.petitions.models import Category

    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:register")).content.decode()
    # then Chinese colons and no Django dashes
    assert "问题属地：</label>" in page
    assert "---------" not in page
    # and one <optgroup> per first-level class holding its entries
    head = Category.objects.filter(parent__isnull=True, children__is_active=True).first()
    assert f'<optgroup label="{head.name}">' in page
    child = Category.objects.filter(parent=head, is_active=True).first()
    block = page.split(f'<optgroup label="{head.name}">', 1)[1].split("</optgroup>", 1)[0]
    assert f'value="{child.pk}"' in block


def test_action_form_blank_choice_says_choose(world):
    """A ChoiceField's blank "---------" choice (the reply's outcome) is shown as "请选择"."""
    from django import forms

    class Form(forms.Form):
        outcome = forms.ChoiceField(choices=[("", "---------"), ("a", "甲")])
        unit = forms.ModelChoiceField(queryset=type(world.a.office).objects.all())

    html = str(Form())
    assert "---------" not in html and html.count("请选择") == 2
    assert "：</label>" in html and ":</label>" not in html


def test_audit_page_reads_as_chinese_lines(client, world):
    """The audit page names `login` and `demo.seed` in Chinese and shows the details as "键：值"
    lines with Chinese keys (an evaluation's ratings and source included), never dict text."""
    from xinfang.audit.services import record_event

    record_event(actor=world.intake_a, action="login", data={"via": "web"})
    record_event(actor=None, action="demo.seed", data={"petitions": 50, "seed": 1})
    record_event(
        actor=None,
        action="petition.evaluate",
        data={"office_rating": "satisfied", "unit_rating": "dissatisfied", "source": "follow_up",
              "organisation": world.a.office.pk},
    )  # fmt: skip
    client.force_login(world.auditor)
    page = client.get(reverse("audit:log")).content.decode()
    assert ">登录<" in page and ">生成演示数据<" in page
    assert '<div class="detail">信访事项数：50</div>' in page
    assert '<div class="detail">对办理单位的评价：不满意</div>' in page
    assert '<div class="detail">来源：回访录入</div>' in page
    assert f'<div class="detail">机构：{world.a.office.name}</div>' in page
    assert "{'" not in page and "office_rating" not in page


def test_rules_table_edit_link_does_not_wrap(client, world):
    client.force_login(world.sysadmin)
    page = client.get(reverse("workflow:rules")).content.decode()
    assert '<td class="nowrap"><a href="' in page and "修改</a></td>" in page


def _person(name: str, phone: str):
    from xinfang.petitions.drafts import PetitionerDraft

    from ..factories import make_id_number

    return [PetitionerDraft(name=name, id_number=make_id_number(), phone=phone, address="城关镇幸福路1号")]


def test_merge_offers_the_same_persons_open_petitions(client, world):
    """The merge form lists the same person's other open petitions in scope — not another person's,
    not a concluded one, not the petition itself — and merging by choosing one works."""
    from xinfang.petitions.models import Petition
    from xinfang.workflow import services

    from ..factories import register

    person = _person("王五", "13700001111")
    target = register(world.a.office, world.intake_a, world.a.township, petitioners=person).petition
    closed = register(world.a.office, world.intake_a, world.a.township, petitioners=person).petition
    services.withdraw(user=world.intake_a, number=closed.number, reasons="信访人撤回")
    someone_else = _person("赵六", "13600002222")
    other = register(world.a.office, world.intake_a, world.a.township, petitioners=someone_else)
    duplicate = register(world.a.office, world.intake_a, world.a.township, petitioners=person).petition
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:detail", args=[duplicate.number])).content.decode()
    panel = page.split('id="action-merge"', 1)[1].split("</details>", 1)[0]
    assert '<select name="into"' in panel
    assert f'<option value="{target.number}">' in panel
    for absent in (closed.number, other.petition.number, duplicate.number):
        assert f'value="{absent}"' not in panel
    # when the clerk chooses the target
    response = client.post(
        reverse("workflow:act", args=[duplicate.number, "merge"]),
        {"version": duplicate.version, "into": target.number},
    )
    assert response.status_code == 302
    duplicate = Petition.objects.get(pk=duplicate.pk)
    assert duplicate.status == "merged" and duplicate.repeat_of_id == target.pk
    # a number not offered (another person's petition) is refused by the form
    third = register(world.a.office, world.intake_a, world.a.township, petitioners=person).petition
    response = client.post(
        reverse("workflow:act", args=[third.number, "merge"]),
        {"version": third.version, "into": other.petition.number},
    )
    assert response.status_code == 200
    assert Petition.objects.get(pk=third.pk).status == "registered"


def test_extension_approval_form_shows_the_request(client, world):
    """The leader sees who asked, the days, the reasons, the current and the new due date."""
    from xinfang.petitions.models import Petition
    from xinfang.workflow import services

    from ..procedure import new_registration, to_accepted

    number = new_registration(world).petition.number
    to_accepted(world, number)
    reasons = "需委托司法鉴定，鉴定周期较长"
    services.request_extension(user=world.handler_a, number=number, days=15, reasons=reasons)
    petition = Petition.objects.get(number=number)
    client.force_login(world.leader_a)
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    block = page.split('id="extension-request-approve_extension"', 1)[1].split("</dl>", 1)[0]
    assert "15 日" in block and "需委托司法鉴定，鉴定周期较长" in block
    assert world.handler_a.username in block or (world.handler_a.full_name or "-") in block
    assert petition.due_on.isoformat() in block
    # the new date shown is the one approving gives
    new_due = block.split('class="extension-new-due">', 1)[1].split("<", 1)[0]
    services.approve_extension(user=world.leader_a, number=number)
    assert Petition.objects.get(number=number).due_on.isoformat() == new_due
    assert 'id="extension-request-reject_extension"' in page


# --- the portal ----------------------------------------------------------------------------------


def test_captcha_is_big_refreshable_and_called_yanzhengma(client, world):
    """The CAPTCHA image is at least 120×50 px, a 换一张 button fetches a new challenge (static JS,
    the refresh view answers), and a wrong answer says 验证码, never 认证码."""
    import io

    from django.test import override_settings
    from PIL import Image

    from .test_portal_views import submit_data

    page = client.get(reverse("portal:submit")).content.decode()
    assert 'id="captcha-refresh"' in page and "换一张" in page
    assert "xinfang/js/portal.js" in page and reverse("captcha-refresh") in page
    image_url = re.search(r'<img src="([^"]+)" alt="captcha" class="captcha"', page).group(1)
    with Image.open(io.BytesIO(client.get(image_url).content)) as image:
        assert image.width >= 120 and image.height >= 50
    refreshed = client.get(reverse("captcha-refresh"), HTTP_X_REQUESTED_WITH="XMLHttpRequest").json()
    assert refreshed["key"] and refreshed["image_url"]
    with override_settings(CAPTCHA_TEST_MODE=False):
        response = client.post(reverse("portal:submit"), submit_data(world, captcha_1="wrong"))
    html = response.content.decode()
    assert response.status_code == 400 and "验证码错误" in html and "认证码" not in html


def test_receipt_after_submission_copies_prints_and_prefills(client, world):
    """The page after submission has 复制 and 打印 buttons (static JS) and its 查询办理情况 link
    opens the look-up form with the number filled in (never the code)."""
    from .test_portal_views import submit_data

    response = client.post(reverse("portal:submit"), submit_data(world))
    page = client.get(response["Location"]).content.decode()
    number = re.search(r'id="receipt-number">([^<]+)<', page).group(1)
    code = re.search(r'id="receipt-code">([^<]+)<', page).group(1)
    assert 'data-copy="receipt-code"' in page and "data-print" in page
    assert "xinfang/js/receipt.js" in page and "<script>" not in page
    link = re.search(r'id="track-link" href="([^"]+)"', page).group(1)
    assert number in link and code not in link
    track = client.get(link.replace("&amp;", "&")).content.decode()
    assert re.search(rf'name="number"[^>]*value="{re.escape(number)}"', track)


def test_portal_decision_letter_has_facts_and_basis(client, world):
    """The petitioner reads 处理结果, 查明事实, 法律政策依据 and 处理意见 of the reply."""
    from xinfang.petitions.models import Petition
    from xinfang.workflow import services

    from ..procedure import REPLY, to_accepted
    from .test_portal_views import submit

    number, code = submit(client, world)
    petition = Petition.objects.get(number=number)
    petition.subject_confirmed = True  # nobody accused: a complaint
    to_accepted(world, number)
    services.reply(user=world.handler_a, number=number, **REPLY)
    response = client.post(reverse("portal:track"), {"number": number, "code": code}, follow=True)
    page = response.content.decode()
    for part in ("letter-outcome", "letter-facts", "letter-basis", "letter-opinion"):
        assert f'class="{part}"' in page
    assert REPLY["facts"] in page and REPLY["basis"] in page and REPLY["opinion"] in page


def test_routing_rule_form_groups_classes_and_entries(client, world):
    """The routing rules form names a class itself (整类) first in its group, then its entries."""
    from xinfang.petitions.models import Category

    head = Category.objects.filter(parent__isnull=True, children__is_active=True).first()
    client.force_login(world.sysadmin)
    page = client.get(reverse("workflow:routing_rules")).content.decode()
    block = page.split(f'<optgroup label="{head.name}">', 1)[1].split("</optgroup>", 1)[0]
    first = re.search(r'<option value="(\d+)">([^<]+)</option>', block)
    assert int(first.group(1)) == head.pk and first.group(2) == f"{head.name}（整类）"
    assert "---------" not in page


def test_audit_details_of_the_demo_morning_have_chinese_keys():
    """What supervision and 指定承办人 write is labelled too (the demo morning writes both)."""
    from xinfang.audit import labels

    data = {"from": "accepted", "to": "accepted", "notice": 2, "kind": "formal", "office": "青山县信访局",
            "unit": "青山县人社局", "respond_by": "2026-12-07", "published": False, "feedback": 1,
            "leader": "李卫东", "handler": "handler", "handler_name": "刘洋"}  # fmt: skip
    assert all(labels.has_field_label(key) for key in data)
    shown = dict(labels.details(data))
    assert shown["反馈期限"] == "2026-12-07" and shown["向信访人公开"] == "否" and shown["承办人"] == "刘洋"
