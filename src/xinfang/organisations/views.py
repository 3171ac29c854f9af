"""Administration pages: the organisation tree (system administrator) and staff accounts and roles
(security administrator).  三员分立: each page is open to exactly one administrator duty."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors

from .choices import RoleCode
from .forms import OrganisationForm, OrganisationImportForm, RolesForm, StaffForm
from .models import Organisation, User
from .services import (
    create_organisation,
    create_staff,
    import_organisations_csv,
    set_roles,
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
    users = User.objects.select_related("organisation").prefetch_related("roles").order_by("username")
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
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已创建账号：{username}").format(username=user.username))
            return redirect("organisations:staff")
    return render(request, "organisations/staff_form.html", {"form": form})


@role_required(RoleCode.SECADMIN)
def staff_roles(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    form = RolesForm(
        request.POST or None, initial={"roles": sorted(member.role_codes), "is_active": member.is_active}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                set_roles(user=member, roles=form.cleaned_data["roles"], actor=request.user)
                if member.is_active != form.cleaned_data["is_active"]:
                    member.is_active = form.cleaned_data["is_active"]
                    member.save(update_fields=["is_active"])
                    record_event(
                        actor=request.user,
                        action="user.active",
                        obj=member,
                        data={"is_active": member.is_active},
                    )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("organisations:staff")
    return render(request, "organisations/staff_form.html", {"form": form, "member": member})
