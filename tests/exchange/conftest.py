"""Fixtures of the exchange tests: a peer (the province above county 甲) whose system account
refers cases to 甲县信访局, and the API client of tests/api."""

from __future__ import annotations

import pytest

from xinfang.api.services import issue_token
from xinfang.exchange.models import Peer
from xinfang.organisations.services import create_staff

from ..api.conftest import api, token_of  # noqa: F401  (the JSON client and token fixtures)


@pytest.fixture
def upper(world):
    """The upper level's system account on this site and its token, and its Peer."""
    account = create_staff(
        username="province_link",
        password="Xinfang-Test-2026!",
        organisation=world.a.office,
        roles=["intake"],
        is_system_account=True,
        bootstrap=True,
    )
    token = issue_token(user=account, name="省平台", actor=None).token
    peer = Peer.objects.create(
        name="省信访局", base_url="http://127.0.0.1:9", token="xf_remote", account=account
    )
    return peer, token


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the callbacks queued with ``transaction.on_commit`` (the delivery task) at the block's end."""
    return django_capture_on_commit_callbacks
