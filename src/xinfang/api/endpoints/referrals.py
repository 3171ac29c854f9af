"""``/api/v1/referrals``: 上级交办 referrals between installations (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["referrals"], auth=token_auth)
