"""The audit log, readable only by the audit administrator (三员分立)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xinfang.core.decorators import role_required
from xinfang.organisations.choices import RoleCode

from .models import AuditEvent


@role_required(RoleCode.AUDITOR)
def log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    obj = request.GET.get("object", "").strip()
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_name=actor)
    if obj:
        events = events.filter(object_repr=obj)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "action": action, "actor": actor, "object": obj})
