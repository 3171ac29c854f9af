"""``/api/v1/reports``: 信访信息/摘报 information reports (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["reports"], auth=token_auth)
