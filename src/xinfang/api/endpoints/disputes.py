"""``/api/v1/disputes``: 矛盾纠纷排查 Dispute ledger and screening rounds (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["disputes"], auth=token_auth)
