"""``/api/v1/portal/reception-days``: 领导接待日: the public schedule and booking (issue #11)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["portal"], auth=None)  # public: the schedule and booking need no account
