"""The audit log, readable only by the audit administrator (三员分立).

Every search and every export is itself audited (``audit.search``, ``audit.export``).  The page
shows Chinese labels for actions, object types and detail fields (labels.py), never codes or
Python text; a page costs a fixed number of queries (the events, the capped count, one look-up
of the organisations the details name, and the search's own audit row).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from xinfang.core.decorators import role_required
from xinfang.core.pagination import CappedPaginator
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import Organisation

from . import labels
from .forms import LogFilterForm
from .models import AuditEvent
from .services import search_log

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows in one download; narrow the dates for more
CSV_HEADER = ["时间", "操作人", "来源地址", "操作", "操作代码", "对象类型", "对象", "详情", "链序号"]


@role_required(RoleCode.AUDITOR)
def log(request: HttpRequest) -> HttpResponse:
    form = LogFilterForm(request.GET or None)
    export = request.GET.get("format") == "csv"
    page_number = _page_number(request.GET.get("page"))
    events = search_log(user=request.user, filters=form.filters(), page=page_number, export=export)
    if export:
        return _csv_response(events[:EXPORT_LIMIT])
    page = CappedPaginator(events, PAGE_SIZE).get_page(page_number)
    rows = readable(list(page.object_list))
    return render(request, "audit/log.html", {"form": form, "page": page, "rows": rows})


def readable(events: list[AuditEvent]) -> list[dict[str, Any]]:
    """Each event as the page shows it: labels instead of codes, details as (label, text) pairs."""
    names = _organisation_names(events)
    types: dict[str, str] = {}
    return [
        {
            "event": event,
            "action": labels.action_label(event.action),
            "object_type": _object_type(event.object_type, types),
            "details": labels.details(event.data if isinstance(event.data, dict) else {}, names),
        }
        for event in events
    ]


def _organisation_names(events: Iterable[AuditEvent]) -> dict[int, str]:
    ids: set[int] = set()
    for event in events:
        if isinstance(event.data, dict):
            ids |= labels.organisation_ids(event.data)
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _object_type(label: str, cache: dict[str, str]) -> str:
    """``petitions.petition`` → 信访事项 (the model's own name)."""
    if not label:
        return ""
    if label not in cache:
        try:
            cache[label] = str(apps.get_model(label)._meta.verbose_name)
        except (LookupError, ValueError):
            cache[label] = label
    return cache[label]


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else 1


# --- export -------------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(events: Any) -> StreamingHttpResponse:
    """The filtered log as CSV (UTF-8 with BOM, so Excel opens the Chinese), streamed in chunks."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(events)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def _csv_rows(events: Any) -> Iterator[list[str]]:
    yield ["\ufeff" + CSV_HEADER[0], *CSV_HEADER[1:]]
    chunk: list[AuditEvent] = []
    for event in events.iterator(chunk_size=2000):
        chunk.append(event)
        if len(chunk) == 2000:
            yield from _chunk_rows(chunk)
            chunk = []
    yield from _chunk_rows(chunk)


def _chunk_rows(events: list[AuditEvent]) -> Iterator[list[str]]:
    for row in readable(events):
        event = row["event"]
        details = "；".join(f"{label}：{text}" for label, text in row["details"])
        yield [
            _cell(value)
            for value in (
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_name,
                event.ip,
                row["action"],
                event.action,
                row["object_type"],
                event.object_repr,
                details,
                str(event.seq),
            )
        ]


def _cell(value: str) -> str:
    """A value a spreadsheet will not run as a formula (CSV injection): user names and object
    names come from outside, e.g. the user name typed at a failed login."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
