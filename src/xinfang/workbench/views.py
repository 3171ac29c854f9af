"""The workbench page (工作台, ``/staff/workbench/``) and the XLSX exports of its lists and of the
queue (``/staff/export/``).  Reads only: every list is a section of ``sections.py`` over the
restricted queryset."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.core import worklists
from xinfang.core.decorators import role_required
from xinfang.organisations.choices import CASEWORK_ROLES

from .exports import petitions_xlsx
from .sections import get_section
from .selectors import workbench_overview


def _panel_rows(
    panel: worklists.WorkPanel, today: dt.date
) -> list[tuple[worklists.WorkItem, int | None, int]]:
    """Each item of a panel with its days left and its days overdue (0 when not overdue)."""
    rows = []
    for item in panel.items:
        left = item.days_left(today)
        rows.append((item, left, -left if left is not None and left < 0 else 0))
    return rows


@role_required(*CASEWORK_ROLES)
def workbench(request: HttpRequest) -> HttpResponse:
    """Counts per section at the top (each a link to the queue narrowed to that section), then the
    first rows of every non-empty section."""
    overview = workbench_overview(request.user)
    today = timezone.localdate()
    # Work that is not a petition (contracted cases, instructions, bookings …): the apps' panels.
    panels = [(panel, _panel_rows(panel, today)) for panel in worklists.panels_for(request.user, today)]
    return render(
        request,
        "workbench/workbench.html",
        {
            "overview": overview,
            "non_empty": [o for o in overview if o.count],
            "panels": panels,
            "today": today,
        },
    )


@role_required(*CASEWORK_ROLES)
def export_section(request: HttpRequest, key: str) -> HttpResponse:
    """A workbench section as XLSX: the same rows as the queue behind its count."""
    section = get_section(key)
    if section is None or not section.visible_to(request.user):
        raise Http404(_("没有这个工作台分类。"))
    title = _("工作台-{label}").format(label=section.label)
    return petitions_xlsx(
        section.queryset(request.user), title, request.user, section=section, filters={"section": key}
    )


@role_required(*CASEWORK_ROLES)
def export_queue(request: HttpRequest) -> HttpResponse:
    """The queue as XLSX with the queue's own parameters (filters, ``section``, ordering)."""
    from xinfang.petitions.views import queue_queryset  # the queue page's own queryset

    form, qs = queue_queryset(request)
    key = form.cleaned_data.get("section", "") if form.is_valid() else ""
    section = get_section(key)
    filters = {k: v for k, v in request.GET.items() if k not in {"page"} and v}
    title = _("待办信访件-{label}").format(label=section.label) if section is not None else _("待办信访件")
    return petitions_xlsx(qs, title, request.user, section=section, filters=filters)
