"""``/api/v1/campaigns``: 专项行动, backlog, 信访救助 (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["campaigns"], auth=token_auth)
