"""Every page of the ledger opens for the office's staff; the round and edit forms keep what was
typed on error and save on success."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from xinfang.screening.models import ScreeningRound

pytestmark = pytest.mark.django_db


def test_every_page_opens(client, world, make_dispute):
    dispute = make_dispute()
    client.force_login(world.supervisor_a)
    for name in ("ledger", "new", "rounds", "round_new", "returns", "briefings", "figures"):
        assert client.get(reverse(f"screening:{name}")).status_code == 200, name
    for name in ("detail", "edit"):
        assert client.get(reverse(f"screening:{name}", args=[dispute.number])).status_code == 200, name
    client.force_login(world.handler_a)
    assert client.get(reverse("screening:round_new")).status_code == 403


def test_round_form_keeps_input_and_issues(client, world):
    today = timezone.localdate()
    client.force_login(world.supervisor_a)
    data = {"title": "春节前集中排查", "kind": "sensitive", "period_start": today.isoformat(),
            "period_end": today.isoformat(), "due_on": (today - dt.timedelta(days=1)).isoformat(),
            "unit_kinds": ["government"], "instructions": "重点排查欠薪"}  # fmt: skip
    html = client.post(reverse("screening:round_new"), data).content.decode()
    assert "报送期限不能早于今天" in html and "春节前集中排查" in html and "重点排查欠薪" in html
    data["due_on"] = (today + dt.timedelta(days=5)).isoformat()
    response = client.post(reverse("screening:round_new"), data)
    rnd = ScreeningRound.objects.get()
    assert response.status_code == 302 and rnd.kind == "sensitive"
    assert list(rnd.returns.values_list("unit_id", flat=True)) == [world.a.township.pk]


def test_edit_form_keeps_input_and_saves(client, world, make_dispute):
    dispute = make_dispute()
    client.force_login(world.intake_a)
    url = reverse("screening:edit", args=[dispute.number])
    data = {"title": "改后的名称", "kind": "labour", "risk": "high", "source": "grid",
            "organisation": world.a.township.pk, "deadline": "2000-01-01",
            "screened_on": dispute.screened_on.isoformat(), "plan": "新方案"}  # fmt: skip
    html = client.post(url, data).content.decode()
    assert "化解期限不能早于排查日期" in html and "改后的名称" in html and "新方案" in html
    data["deadline"] = (dispute.screened_on + dt.timedelta(days=20)).isoformat()
    assert client.post(url, data).status_code == 302
    dispute.refresh_from_db()
    assert (dispute.title, dispute.risk, dispute.plan) == ("改后的名称", "high", "新方案")
    assert dispute.parties.count() == 2  # parties left blank: unchanged
