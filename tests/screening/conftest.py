"""Fixtures of the screening tests: disputes in county A's ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.screening import services
from xinfang.screening.services import PartyData

from ..api.conftest import token_of  # noqa: F401 — the API tests' bearer-token fixture
from ..factories import make_id_number


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def make_dispute(world):
    """``make_dispute(**overrides)``: a dispute registered by county A's intake clerk."""

    def make(actor=None, **overrides):
        values = {
            "organisation": world.a.township,
            "title": "城关镇幸福村宅基地纠纷",
            "kind": "neighbours",
            "risk": "medium",
            "source": "grid",
            "description": "两户村民因宅基地界址发生争执。",
            "plan": "镇司法所组织调解。",
            "deadline": timezone.localdate() + dt.timedelta(days=10),
            "parties": [PartyData("张三", make_id_number(), "13812345678"), PartyData("李四")],
        }
        values.update(overrides)
        return services.create_dispute(actor=actor or world.intake_a, **values)

    return make
