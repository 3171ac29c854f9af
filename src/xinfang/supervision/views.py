"""Staff pages of supervision: the lists of notices (issued by my office, to my unit, listed
supervision), each exportable to XLSX.  The petition page's panel is the ``supervision_panel``
template tag; the actions themselves post through workflow's generic ``act`` view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinfang.core.decorators import role_required
from xinfang.core.pagination import CappedPaginator
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode

from . import selectors
from .exports import notices_xlsx

PAGE_SIZE = 50
OVERSIGHT = frozenset({RoleCode.SUPERVISOR, RoleCode.LEADER})


def _in_petition_office(user: Any) -> bool:
    return user.organisation is not None and user.organisation.kind == OrganisationKind.PETITION_OFFICE


@dataclass(frozen=True)
class NoticeList:
    key: str
    title: Promise
    hint: Promise
    selector: Callable[[Any], Any]
    roles: frozenset[str]
    applies: Callable[[Any], bool] = lambda user: True


LISTS = {
    item.key: item
    for item in [
        NoticeList("awaiting", _("本机关督办 · 待反馈"),
                   _("本机关发出、被督办单位尚未反馈的督办通知；逾期未反馈的，系统会先告知其领导，再报上一级信访部门。"),
                   selectors.awaiting_answer, OVERSIGHT, _in_petition_office),
        NoticeList("review", _("本机关督办 · 待审核反馈"),
                   _("被督办单位已反馈，请在信访事项页面审核：认可则督办办结，不认可则退回并重新确定反馈期限。"),
                   selectors.answers_to_review, OVERSIGHT, _in_petition_office),
        NoticeList("listed", _("挂牌督办"),
                   _("辖区内尚未解除（摘牌）的挂牌督办事项；督办机关认可反馈后，在信访事项页面解除督办即摘牌。"),
                   selectors.listed_notices, OVERSIGHT),
        NoticeList("to-answer", _("发给本单位的督办"),
                   _("上级机关督办本单位办理的事项，请在反馈期限内在信访事项页面提交督办反馈。"),
                   selectors.notices_to_answer, frozenset(CASEWORK_ROLES)),
    ]
}  # fmt: skip


def lists_for(user: Any) -> list[NoticeList]:
    """The lists ``user`` may open (the tabs of the page and the menu's target)."""
    return [item for item in LISTS.values() if user.has_role(*item.roles) and item.applies(user)]


@role_required(*CASEWORK_ROLES)
def index(request: HttpRequest) -> HttpResponse:
    """/staff/supervision/: the first list the user may open."""
    available = lists_for(request.user)
    if not available:
        raise PermissionDenied
    return redirect("supervision:list", key=available[0].key)


@role_required(*CASEWORK_ROLES)
def notice_list(request: HttpRequest, key: str) -> HttpResponse:
    item = LISTS.get(key)
    if item is None:
        raise Http404
    if not (request.user.has_role(*item.roles) and item.applies(request.user)):
        raise PermissionDenied
    qs = item.selector(request.user)
    if request.GET.get("format") == "xlsx":
        return notices_xlsx(qs, title=str(item.title), user=request.user, key=key)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/notices.html",
        {"item": item, "lists": lists_for(request.user), "page": page, "today": timezone.localdate()},
    )
