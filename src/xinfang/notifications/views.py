"""Staff pages: the notification list (the bell's page), the outbox and the message templates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.core.pagination import CappedPaginator
from xinfang.organisations.choices import RoleCode

from . import services
from .forms import TemplateForm, read_ids
from .models import MessageTemplate, Notification, OutboxStatus

PAGE_SIZE = 30


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    qs = (
        services.for_user(request.user, unread=unread_only)
        .select_related("petition")
        .only("id", "title", "body", "url", "created_at", "read_at", "petition__number")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_only": unread_only, "unread": services.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    ids = read_ids(request.POST)
    n = services.mark_read(request.user, ids) if ids is None or ids else 0
    if n:
        messages.success(request, _("已将 %(n)d 条消息标为已读。") % {"n": n})
    return redirect("notifications:list")


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link and mark it read (only the user's own; only links within this
    site)."""
    note = Notification.objects.filter(pk=pk, user=request.user).only("id", "url", "read_at").first()
    if note is None:
        raise Http404
    if note.read_at is None:
        services.mark_read(request.user, [note.pk])
    url = note.url
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts=None) or not url.startswith("/"):
        return redirect("notifications:list")
    return HttpResponseRedirect(url)


@role_required(RoleCode.SYSADMIN, RoleCode.SUPERVISOR)
def outbox(request: HttpRequest) -> HttpResponse:
    """Messages not (yet) delivered, for the system administrator and supervisors: masked
    recipients, the last error, a retry button for the failed ones."""
    status = request.GET.get("status", "")
    base = services.outbox_for(request.user)
    qs = base
    if status in OutboxStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
        qs = qs.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED])
    counts = dict(base.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    page = CappedPaginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/outbox.html",
        {
            "page": page,
            "status": status,
            "warnings": services.delivery_warnings(),
            "statuses": [(value, label, counts.get(value, 0)) for value, label in OutboxStatus.choices],
        },
    )


@role_required(RoleCode.SYSADMIN, RoleCode.SUPERVISOR)
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    if services.retry_message(request.user, pk):
        messages.success(request, _("已重新排队发送，后台任务将在一分钟内发送。"))
    else:
        messages.warning(request, _("该消息不是发送失败状态，无需重试。"))
    return redirect("notifications:outbox")


@role_required(RoleCode.SYSADMIN)
def template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/templates.html", {"templates": MessageTemplate.objects.all()})


@role_required(RoleCode.SYSADMIN)
def template_edit(request: HttpRequest, code: str) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, code=code)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        services.update_template(
            request.user, template, name=form.cleaned_data["name"], text=form.cleaned_data["text"]
        )
        messages.success(request, _("模板已保存，此后发送的消息使用新内容。"))
        return redirect("notifications:templates")
    return render(request, "notifications/template_form.html", {"form": form, "template": template})
