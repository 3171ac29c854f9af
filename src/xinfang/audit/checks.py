"""Deploy check: the audit chain needs its key (audit/chain.py; docs/deployment.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_audit_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Without XINFANG_AUDIT_KEY outside DEBUG every audited write fails; say so before serving."""
    if settings.XINFANG_AUDIT_KEY:
        return []
    return [
        Error(
            "XINFANG_AUDIT_KEY is not set: the audit log cannot be written or verified.",
            hint="Generate one with python -m xinfang.core.keygen and keep it outside the database.",
            id="xinfang.audit.E001",
        )
    ]
