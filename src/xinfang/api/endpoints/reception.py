"""``/api/v1/reception-days``: 领导接待日 (staff) (issue #11)."""

from __future__ import annotations

from ninja import Router

from ..auth import token_auth

router = Router(tags=["reception"], auth=token_auth)
