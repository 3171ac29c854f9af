"""``/api/v1/instructions``: 阅批 instructions (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["instructions"], auth=token_auth)
