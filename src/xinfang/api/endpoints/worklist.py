"""``/api/v1/worklist``: the caller's workbench (工作台) — each section that concerns them with its
count and first items, or one section's full list a page at a time.

The sections, their counts and their items are those of the staff page (``workbench.sections``,
``workbench.selectors``): one definition, so the API and the page cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from xinfang.core import worklists
from xinfang.core.pagination import capped_count
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.workbench.sections import SECTION_COUNT_CAP, SECTIONS, get_section, sections_for
from xinfang.workbench.selectors import PREVIEW_ROWS, Row, section_rows

from ..auth import auth_user, token_auth
from ..schemas import BoundedIntegers, ErrorOut, OrganisationOut, PetitionerOut, StaffOut

router = Router(tags=["worklist"], auth=token_auth)

SECTION_KEYS = tuple(s.key for s in SECTIONS)


class WorklistFilters(BoundedIntegers):
    section: Literal[SECTION_KEYS] | None = Field(  # type: ignore[valid-type]
        None, description="只列出这一分类的全部事项（分页）；不填则返回每个分类的数量和前几项"
    )
    limit: int = Field(
        PREVIEW_ROWS, ge=0, le=200, description="每个分类返回的条数（指定 section 时为每页条数，最多200）"
    )
    offset: int = Field(0, ge=0, le=SECTION_COUNT_CAP * 10, description="跳过的条数（仅与 section 同用）")


class WorkItemOut(Schema):
    """A petition as the workbench lists it."""

    number: str
    title: str
    status: str
    status_label: str
    reason: str = Field(description="为什么在这个分类：需要谁做什么")
    due_on: dt.date | None = Field(description="期限：本环节办理时限、督办反馈期限，或信访人的评价期限")
    staff_deadline: bool = Field(description="是否为工作人员须遵守的期限（否：信访人的期限，不计超期）")
    days_left: int | None = Field(description="距期限的天数，逾期为负数")
    overdue: bool = Field(description="已超过工作人员须遵守的期限")
    handling_unit: OrganisationOut | None = Field(description="承办单位")
    handler: StaffOut | None = Field(description="承办人")
    is_new: bool = Field(description="有未读提醒")
    petitioners: list[PetitionerOut] = Field(description="信访人（证件号码、电话只显示掩码）")


class WorklistSectionOut(Schema):
    key: str = Field(json_schema_extra={"enum": list(SECTION_KEYS)})
    label: str
    reason: str
    count: int = Field(
        description=f"该分类的事项数；超过{SECTION_COUNT_CAP}时为{SECTION_COUNT_CAP}，见 count_exact"
    )
    count_exact: bool
    items: list[WorkItemOut]


class PanelItemOut(Schema):
    """A record that is not a petition (a contracted case, an instruction, a booking …)."""

    reference: str = Field(description="编号：信访件、纠纷、预约等的编号")
    title: str
    url: str = Field(description="工作人员页面上的地址")
    reason: str
    due_on: dt.date | None
    days_left: int | None = Field(description="距期限的天数，逾期为负数")


class PanelOut(Schema):
    key: str
    label: str
    reason: str
    count: int
    alert: bool = Field(description="有逾期事项")
    list_url: str = Field(description="台账页面")
    export_url: str = Field(description="台账的 Excel 导出")
    items: list[PanelItemOut]


class WorklistOut(Schema):
    sections: list[WorklistSectionOut]
    panels: list[PanelOut] = Field(
        description="信访件以外的待办（包案、阅批、排查、接待预约、上级交办、信访信息）；指定 section 时为空"
    )
    limit: int
    offset: int


def _item(row: Row) -> dict[str, Any]:
    p = row.petition
    handler = row.handler
    return {
        "number": p.number,
        "title": p.title,
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "reason": row.reason,
        "due_on": row.due_on,
        "staff_deadline": row.staff_deadline,
        "days_left": row.days_left,
        "overdue": row.overdue,
        "handling_unit": row.handling_unit,
        "handler": {"id": handler.pk, "name": str(handler)} if handler is not None else None,
        "is_new": row.is_new,
        "petitioners": list(p.petitioners.all()),
    }


@router.get(
    "",
    response={200: WorklistOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="工作台：待办分类、数量和事项",
)
def worklist(request: HttpRequest, filters: Query[WorklistFilters]) -> dict[str, Any]:
    """The sections of the caller's workbench (新交办, 待处置, 办理中, 待审批, 督办, 即将到期, 已超期 …)
    that concern their roles, each with its count and its first ``limit`` items, soonest due
    first.  With ``section=<key>``: that section only, items ``offset .. offset + limit`` (the same
    items as the staff page's list behind the count).  Casework roles only (403 otherwise); a
    section that does not concern the caller's roles is refused with 403."""
    user = auth_user(request)
    if not user.role_codes & CASEWORK_ROLES or user.organisation_id is None:
        raise PermissionError(_("工作台只对登记员、承办人、督办员和领导开放。"))
    if filters.section:
        section = get_section(filters.section)
        if section is None or not section.visible_to(user):
            raise PermissionError(_("该分类与您的角色无关。"))
        chosen = [section]
        offset = filters.offset
    else:
        chosen = sections_for(user)
        offset = 0
    result = []
    for section in chosen:
        count, exact = capped_count(section.queryset(user), SECTION_COUNT_CAP)
        rows = (
            section_rows(section, user, limit=filters.limit, offset=offset) if count and filters.limit else []
        )
        result.append(
            {
                "key": section.key,
                "label": str(section.label),
                "reason": str(section.reason),
                "count": count,
                "count_exact": exact,
                "items": [_item(r) for r in rows],
            }
        )
    panels = [] if filters.section else _panels(user, filters.limit)
    return {"sections": result, "panels": panels, "limit": filters.limit, "offset": offset}


def _panels(user: Any, limit: int) -> list[dict[str, Any]]:
    """The workbench's panels of non-petition work (``core.worklists``), their first ``limit`` items."""
    today = timezone.localdate()
    return [
        {
            "key": panel.key,
            "label": str(panel.label),
            "reason": str(panel.reason),
            "count": panel.count,
            "alert": panel.alert,
            "list_url": panel.list_url,
            "export_url": panel.export_url,
            "items": [
                {
                    "reference": item.reference,
                    "title": item.title,
                    "url": item.url,
                    "reason": item.reason,
                    "due_on": item.due_on,
                    "days_left": item.days_left(today),
                }
                for item in panel.items[:limit]
            ],
        }
        for panel in worklists.panels_for(user, today)
    ]
