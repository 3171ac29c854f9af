"""``/api/v1/notifications``: the caller's own notifications (the bell) and marking them read.

Only ever the caller's rows: another user's notification is neither listed nor marked (an id that
is not the caller's is ignored, as if it did not exist)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import model_validator

from xinfang.core.pagination import capped_count
from xinfang.notifications import services

from ..auth import auth_user, token_auth
from ..schemas import DB_INT_MAX, ErrorOut, InputSchema

router = Router(tags=["notifications"], auth=token_auth)


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="类别，如 assign、extension_requested、supervise")
    title: str
    body: str
    url: str = Field(description="站内链接（工作人员页面），可能为空")
    petition: str | None = Field(None, description="相关信访编号")
    created_at: dt.datetime
    read_at: dt.datetime | None = Field(None, description="已读时间；未读为 null")

    @staticmethod
    def resolve_petition(obj: object) -> str | None:
        petition = getattr(obj, "petition", None)
        return petition.number if petition is not None else None


class NotificationPageOut(Schema):
    count: int
    count_exact: bool
    unread: int = Field(description="调用者的未读消息总数")
    limit: int
    offset: int
    results: list[NotificationOut]


class NotificationFilters(InputSchema):
    unread: bool | None = Field(None, description="true：只列未读的")
    limit: int = Field(50, ge=1, le=200, description="每页条数（最多200）")
    offset: int = Field(0, ge=0, le=DB_INT_MAX, description="跳过的条数")


class ReadIn(InputSchema):
    ids: list[int] | None = Field(None, max_length=1000, description="要标为已读的消息 id")
    all: bool = Field(False, description="true：全部标为已读（此时不传 ids）")

    @model_validator(mode="after")
    def _ids_or_all(self) -> ReadIn:
        if self.all == (self.ids is not None):
            raise ValueError("请提供 ids，或 all 为 true（二者选一）。")
        for value in self.ids or []:
            if not 1 <= value <= DB_INT_MAX:
                raise ValueError("数值超出范围。")
        return self


class ReadOut(Schema):
    marked: int = Field(description="本次标为已读的条数")
    unread: int = Field(description="剩余未读条数")


@router.get("", response={200: NotificationPageOut, 401: ErrorOut, 422: ErrorOut}, summary="我的消息")
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, object]:
    """The caller's notifications, unread first and newest first, one page at a time."""
    user = auth_user(request)
    qs = services.for_user(user, unread=bool(filters.unread)).select_related("petition")
    count, exact = capped_count(qs)
    return {
        "count": count,
        "count_exact": exact,
        "unread": services.unread_count(user),
        "limit": filters.limit,
        "offset": filters.offset,
        "results": list(qs[filters.offset : filters.offset + filters.limit]),
    }


@router.post("/read", response={200: ReadOut, 401: ErrorOut, 422: ErrorOut}, summary="标为已读")
def read_notifications(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    """Mark the caller's notifications ``ids`` as read, or all of them with ``{"all": true}``.
    Ids that are not the caller's (or already read) are ignored."""
    user = auth_user(request)
    marked = services.mark_read(user, None if payload.all else payload.ids)
    return {"marked": marked, "unread": services.unread_count(user)}
