"""Administration pages: the organisation tree (system administrator), staff accounts and roles
(security administrator), the four-eyes requests (security administrator requests, a second
security administrator or the system administrator decides), and the landing page after login.
三员分立: each page is open to the duty it serves (docs/security.md §2)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors

from .choices import CASEWORK_ROLES, GrantKind, GrantStatus, RoleCode
from .forms import GrantDecisionForm, OrganisationForm, OrganisationImportForm, RolesForm, StaffForm
from .grants import (
    APPROVER_ROLES,
    approve_request,
    change_account,
    check_may_approve,
    expire_overdue_requests,
    reject_request,
    requests_by,
    requests_for_approval,
    withdraw_request,
)
from .models import GrantRequest, Organisation, User
from .services import (
    create_organisation,
    create_staff,
    import_organisations_csv,
    update_organisation,
)


@role_required(RoleCode.SYSADMIN)
def tree(request: HttpRequest) -> HttpResponse:
    """The whole tree, indented by depth (a few thousand rows at most for a province)."""
    q = request.GET.get("q", "").strip()
    orgs = Organisation.objects.all()
    if q:
        orgs = orgs.filter(Q(name__contains=q) | Q(code=q))
    page = Paginator(orgs, 200).get_page(request.GET.get("page"))
    return render(request, "organisations/tree.html", {"page": page, "q": q})


@role_required(RoleCode.SYSADMIN)
def create(request: HttpRequest) -> HttpResponse:
    parent = None
    if request.GET.get("parent") or request.POST.get("parent"):
        parent = get_object_or_404(Organisation, pk=request.GET.get("parent") or request.POST.get("parent"))
    form = OrganisationForm(request.POST or None, initial={"level": parent.level if parent else ""})
    if request.method == "POST" and form.is_valid():
        try:
            org = create_organisation(
                parent=parent,
                actor=request.user,
                **{k: form.cleaned_data[k] for k in ("name", "code", "kind", "level")},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已添加机构：{name}").format(name=org.name))
            return redirect("organisations:tree")
    return render(request, "organisations/form.html", {"form": form, "parent": parent})


@role_required(RoleCode.SYSADMIN)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=pk)
    initial = {k: getattr(org, k) for k in ("name", "code", "kind", "level", "is_active")}
    form = OrganisationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v != initial[k]}
        try:
            if changes:
                update_organisation(org=org, actor=request.user, **changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("organisations:tree")
    return render(request, "organisations/form.html", {"form": form, "org": org, "parent": org.parent})


@role_required(RoleCode.SYSADMIN)
def import_csv(request: HttpRequest) -> HttpResponse:
    form = OrganisationImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = import_organisations_csv(data=form.cleaned_data["file"].read(), actor=request.user)
        except (ValidationError, UnicodeDecodeError) as exc:
            form.add_error(
                "file", exc.messages if isinstance(exc, ValidationError) else _("文件不是 UTF-8 编码。")
            )
        else:
            if not result.errors:
                messages.success(
                    request,
                    _("导入完成：新增 {created} 个，跳过已有 {skipped} 个。").format(
                        created=result.created, skipped=result.skipped
                    ),
                )
                return redirect("organisations:tree")
    return render(request, "organisations/import.html", {"form": form, "result": result})


@role_required(RoleCode.SECADMIN)
def staff(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    pending = GrantRequest.objects.filter(target=OuterRef("pk"), status=GrantStatus.PENDING)
    users = (
        User.objects.select_related("organisation")
        .prefetch_related("roles")
        .annotate(has_pending_grant=Exists(pending))  # marks accounts whose change waits for approval
        .order_by("username")
    )
    if q:
        users = users.filter(Q(username__contains=q) | Q(full_name__contains=q))
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "organisations/staff.html", {"page": page, "q": q})


@role_required(RoleCode.SECADMIN)
def staff_create(request: HttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = create_staff(
                username=data["username"],
                password=data["password"],
                full_name=data["full_name"],
                organisation=data["organisation"],
                roles=data["roles"],
                is_system_account=data["is_system_account"],
                actor=request.user,
                reason=data["reason"],
                email=data.get("email") or "",
                mobile=data.get("mobile") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "已创建账号：{username}。所选角色已提交审批，须由另一名安全管理员或系统管理员"
                    "批准后才生效。"
                ).format(username=user.username),
            )
            return redirect("organisations:grants")
    return render(request, "organisations/staff_form.html", {"form": form})


@role_required(RoleCode.SECADMIN)
def staff_roles(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an account's roles and whether it is enabled: through ``grants.change_account``, which
    applies a removal at once and turns anything that gives access into a request."""
    member = get_object_or_404(User, pk=pk)
    form = RolesForm(
        request.POST or None, initial={"roles": sorted(member.role_codes), "is_active": member.is_active}
    )
    if request.method == "POST" and form.is_valid():
        try:
            grant = change_account(
                user=member,
                roles=form.cleaned_data["roles"],
                is_active=form.cleaned_data["is_active"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if grant is None:
                messages.success(request, _("已保存，立即生效。"))
                return redirect("organisations:staff")
            messages.success(request, _("已提交审批。须由另一名安全管理员或系统管理员批准后才生效。"))
            return redirect("organisations:grant", grant.pk)
    pending = member.grant_requests.filter(status=GrantStatus.PENDING).first()
    return render(
        request, "organisations/staff_form.html", {"form": form, "member": member, "pending": pending}
    )


# --- four-eyes approval (issue #7 point 16, docs/security.md §2) ------------------------------


@role_required(*APPROVER_ROLES)
def grants(request: HttpRequest) -> HttpResponse:
    """Requests waiting for this administrator's decision, and the ones they made."""
    expire_overdue_requests()
    mine = Paginator(requests_by(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "organisations/grants.html",
        {"to_approve": requests_for_approval(request.user), "page": mine},
    )


@role_required(*APPROVER_ROLES)
def grant(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: what it changes, what happens next and who acts; approve, reject, withdraw."""
    expire_overdue_requests()
    item = get_object_or_404(
        GrantRequest.objects.select_related("target", "requested_by", "decided_by"), pk=pk
    )
    form = GrantDecisionForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        action, reason = request.POST.get("action"), form.cleaned_data["reason"]
        try:
            if action == "approve":
                issued = approve_request(grant=item, actor=request.user, reason=reason)
            elif action == "reject":
                reject_request(grant=item, actor=request.user, reason=reason)
            elif action == "withdraw":
                withdraw_request(grant=item, actor=request.user)
            else:
                raise ValidationError(_("未知的操作。"))
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            done = {"approve": _("已批准，已生效。"), "reject": _("已驳回。"), "withdraw": _("已撤回。")}
            messages.success(request, done[action])
            if issued is None:  # a token is shown once, on this response; nothing else to show
                return redirect("organisations:grant", item.pk)
        item.refresh_from_db()
    return render(
        request,
        "organisations/grant.html",
        {
            "item": item,
            "form": form,
            "issued": issued,
            "changes": describe_grant(item),
            "next_step": next_step(item, request.user),
            "may_decide": item.status == GrantStatus.PENDING and _may_decide(request.user, item),
            "may_withdraw": item.status == GrantStatus.PENDING and item.requested_by_id == request.user.pk,
        },
    )


def _may_decide(user: User, item: GrantRequest) -> bool:
    try:
        check_may_approve(user, item)
    except (PermissionError, ValidationError):
        return False
    return True


def _role_names(codes: list[str]) -> str:
    return "、".join(str(RoleCode(c).label) for c in codes) or _("无")


def describe_grant(item: GrantRequest) -> list[str]:
    """What the request changes, one line per change, in plain Chinese."""
    p = item.payload
    if item.kind == GrantKind.TOKEN:
        days = _("{days}天").format(days=p["days"]) if p.get("days") else _("长期（直到吊销）")
        return [_("为系统账号签发接口令牌“{name}”，有效期：{days}").format(name=p["name"], days=days)]
    lines = []
    if set(p["roles"]) != set(p["before"]["roles"]):
        lines.append(
            _("角色：{before} → {after}").format(
                before=_role_names(p["before"]["roles"]), after=_role_names(p["roles"])
            )
        )
    if p["is_active"] != p["before"]["is_active"]:
        lines.append(_("启用账号") if p["is_active"] else _("停用账号"))
    return lines


def next_step(item: GrantRequest, user: User) -> str:
    """What happens next and who acts, as the person looking at the request should read it."""
    decided = {"who": str(item.decided_by or ""), "reason": item.decision_reason}
    if item.status == GrantStatus.PENDING:
        until = timezone.localtime(item.expires_at).strftime("%Y-%m-%d %H:%M")
        if item.requested_by_id == user.pk:
            return _(
                "等待另一名安全管理员或系统管理员审批，您本人不能审批。{until}前未审批的，申请自动失效；"
                "在此之前您可以撤回。"
            ).format(until=until)
        if _may_decide(user, item):
            return _(
                "请您核对后批准或驳回。批准后变更立即生效；驳回须写明理由。{until}前未处理的，申请自动失效。"
            ).format(until=until)
        return _(
            "等待其他管理员审批（申请人和该账号本人不能审批）。{until}前未审批的，申请自动失效。"
        ).format(until=until)
    if item.status == GrantStatus.APPROVED:
        if item.kind == GrantKind.TOKEN:
            return _("已由{who}批准，令牌已签发，只向审批人显示一次。如令牌遗失，请吊销后重新申请。").format(
                **decided
            )
        return _("已由{who}批准，变更已生效。").format(**decided)
    if item.status == GrantStatus.REJECTED:
        return _("已由{who}驳回，理由：{reason}。如仍需要，请修改后重新申请。").format(**decided)
    if item.status == GrantStatus.WITHDRAWN:
        return _("申请人已撤回，未作任何变更。")
    if item.status == GrantStatus.CANCELLED:
        return _("已失效（{reason}），未作任何变更。如仍需要，请按账号当前情况重新申请。").format(**decided)
    return _("超过期限未审批，已自动失效，未作任何变更。如仍需要，请重新申请。")


# --- landing page after login (issue #7 point 21) -----------------------------------------------

# The first page each duty may see, in this order: a person holding a casework role works from the
# workbench (工作台, issue #8 §2: what needs them today); each administrator from the page of their
# own duty.
LANDING_PAGES: tuple[tuple[frozenset[str], str], ...] = (
    (CASEWORK_ROLES, "workbench:home"),
    (frozenset({RoleCode.SECADMIN}), "organisations:staff"),
    (frozenset({RoleCode.SYSADMIN}), "organisations:tree"),
    (frozenset({RoleCode.AUDITOR}), "audit:log"),
)


def landing_url(user: User) -> str | None:
    """The URL ``user`` lands on after login, or None for an account without any role."""
    for roles, name in LANDING_PAGES:
        if user.has_role(*roles):
            return reverse(name)
    return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where the login sends everyone: the first page their role may see, never a 403.  An account
    without a role (e.g. waiting for approval) is told so and whom to ask."""
    url = landing_url(request.user)
    if url is not None:
        return redirect(url)
    return render(request, "organisations/no_role.html")
