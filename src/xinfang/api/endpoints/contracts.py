"""``/api/v1/contracts``: 包案 LeaderContract (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["contracts"], auth=token_auth)
