"""Writes to the organisation tree and staff accounts.  Every write is audited in its transaction."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import throttle

from .choices import Level, OrganisationKind
from .grants import apply_account, change_account, check_requester, validate_roles
from .models import PATH_STEP, Organisation, User


def _path_for(parent: Organisation | None, pk: int) -> str:
    return f"{parent.path if parent else ''}{pk:0{PATH_STEP}d}/"


def create_organisation(
    *,
    name: str,
    kind: str,
    level: str,
    parent: Organisation | None = None,
    code: str = "",
    actor: User | None = None,
) -> Organisation:
    """Add an organisation under ``parent`` (None for a root) and give it its tree path."""
    org = Organisation(name=name.strip(), kind=kind, level=level, parent=parent, code=code.strip())
    org.path = f"tmp-{uuid.uuid4().hex}"  # the real path needs the id
    org.full_clean(exclude=["path"])
    with transaction.atomic():
        org.save()
        org.path = _path_for(parent, org.pk)
        org.depth = 0 if parent is None else parent.depth + 1
        org.save(update_fields=["path", "depth"])
        record_event(
            actor=actor, action="organisation.create", obj=org, data={"parent": parent.pk if parent else None}
        )
    return org


def update_organisation(*, org: Organisation, actor: User | None, **changes: object) -> Organisation:
    """Rename or recode an organisation (moving it in the tree is not offered: it re-scopes petitions)."""
    allowed = {"name", "code", "kind", "level", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    before = {k: getattr(org, k) for k in changes}
    for key, value in changes.items():
        setattr(org, key, value)
    org.full_clean(exclude=["path"])
    with transaction.atomic():
        org.save(update_fields=list(changes))
        record_event(
            actor=actor, action="organisation.change", obj=org, data={"before": before, "after": changes}
        )
    return org


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


CSV_COLUMNS = ("name", "code", "kind", "level", "parent_code", "parent_name")


def import_organisations_csv(*, data: bytes | str, actor: User | None) -> ImportResult:
    """Import organisations from CSV (columns: name, code, kind, level, parent_code, parent_name).

    A parent is found by ``parent_code`` (an area code) or, failing that, by ``parent_name``; it may
    be a row earlier in the same file.  Rows already present (same parent and name) are skipped.
    The file is imported whole or not at all: any bad row aborts with every error listed.
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    missing = {"name", "kind", "level"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(_("CSV 缺少列：{cols}").format(cols="、".join(sorted(missing))))
    result = ImportResult()
    with transaction.atomic():
        for lineno, row in enumerate(reader, start=2):
            try:
                _import_row(row, actor=actor, result=result)
            except ValidationError as exc:
                result.errors.append(_("第{line}行：{msg}").format(line=lineno, msg="；".join(exc.messages)))
        if result.errors:
            transaction.set_rollback(True)
            result.created = 0
    return result


def _import_row(row: dict[str, str], *, actor: User | None, result: ImportResult) -> None:
    name = (row.get("name") or "").strip()
    kind = (row.get("kind") or "").strip()
    level = (row.get("level") or "").strip()
    if not name:
        raise ValidationError(_("名称不能为空"))
    if kind not in OrganisationKind.values:
        raise ValidationError(_("未知的机构类型 “{kind}”").format(kind=kind))
    if level not in Level.values:
        raise ValidationError(_("未知的层级 “{level}”").format(level=level))
    parent = _find_parent(row)
    if Organisation.objects.filter(parent=parent, name=name).exists():
        result.skipped += 1
        return
    create_organisation(
        name=name, kind=kind, level=level, parent=parent, code=row.get("code") or "", actor=actor
    )
    result.created += 1


def _find_parent(row: dict[str, str]) -> Organisation | None:
    parent_code = (row.get("parent_code") or "").strip()
    parent_name = (row.get("parent_name") or "").strip()
    if not parent_code and not parent_name:
        return None
    qs = Organisation.objects.all()
    matches = list(qs.filter(code=parent_code)[:2]) if parent_code else []
    if not matches and parent_name:
        matches = list(qs.filter(name=parent_name)[:2])
    if len(matches) != 1:
        raise ValidationError(_("找不到唯一的上级机构（{ref}）").format(ref=parent_code or parent_name))
    return matches[0]


def set_roles(*, user: User, roles: list[str], actor: User | None = None, bootstrap: bool = False) -> None:
    """Give an account exactly these roles *without* a second person's approval: the operator's
    path only (``bootstrap=True``, ``actor=None``: the demo seed, the first administrators of a new
    site from ``xinfang shell``), audited with ``"bootstrap": true``.

    Staff pages go through :func:`xinfang.organisations.grants.change_account`, which asks a
    second administrator (四眼原则, docs/security.md §2).  The 三员分立 combinations are refused
    either way.
    """
    wanted = validate_roles(roles)
    if not bootstrap or actor is not None:
        raise PermissionError(_("授予或变更角色须经另一名管理员审批，请提交申请。"))
    with transaction.atomic():
        apply_account(
            user=user, roles=wanted, is_active=user.is_active, actor=None, source={"bootstrap": True}
        )


def create_staff(
    *,
    username: str,
    password: str,
    organisation: Organisation | None,
    roles: list[str],
    full_name: str = "",
    actor: User | None = None,
    is_system_account: bool = False,
    bootstrap: bool = False,
    reason: str = "",
    email: str = "",
    mobile: str = "",
) -> User:
    """Create a staff member; the password is hashed with Argon2.  ``email`` and ``mobile`` are
    where reminders and urgent notices go (issue #8 §4).

    The account is created at once, its ``roles`` are not: with an ``actor`` (the security
    administrator) they become a pending request that a second administrator approves
    (``grants``); with ``bootstrap=True`` (operator, no actor) they are set directly.
    """
    wanted = validate_roles(roles)  # refused before anything is written
    if actor is not None:
        check_requester(actor)
    elif wanted and not bootstrap:
        raise PermissionError(_("授予角色须经另一名管理员审批，请提交申请。"))
    with transaction.atomic():
        user = User(
            username=username,
            full_name=full_name,
            organisation=organisation,
            is_system_account=is_system_account,
            email=email,
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        data: dict[str, object] = {"organisation": getattr(organisation, "pk", None)}
        if bootstrap:
            data["bootstrap"] = True
        record_event(actor=actor, action="user.create", obj=user, data=data)
        if mobile:
            set_mobile(user=user, mobile=mobile, actor=actor)
        if wanted and actor is None:
            set_roles(user=user, roles=sorted(wanted), bootstrap=True)
        elif wanted:
            change_account(
                user=user, roles=wanted, is_active=True, actor=actor, reason=reason or _("新建账号")
            )
    return user


LOGIN_FAILURE_SCOPE = "login-failure"


class LoginFailed(Exception):
    """Wrong user name or password, or an inactive account: one exception for all three."""


def authenticate_staff(*, username: str, password: str, ip: str, channel: str) -> User:
    """Check a password login from the staff pages (``channel="web"``) or the API (``"api"``).

    等保 L3 asks to limit failed logins: after ``XINFANG_LOGIN_FAILURE_RATE`` failures of one user
    name from one address, every attempt is refused with :class:`~xinfang.core.throttle.Throttled`
    until the window ends, even with the right password (or guessing could simply go on).
    Failures and successes are audited.  Callers go through
    ``accounts.services.login_with_password``, which adds the account's own lock (failures from
    any address) around this check, and then the second factor.
    """
    ident = f"{username.strip().lower()}|{ip}"
    rate = settings.XINFANG_LOGIN_FAILURE_RATE
    throttle.check(LOGIN_FAILURE_SCOPE, ident, rate)
    user = authenticate(request=None, username=username, password=password)
    if user is None:  # unknown, wrong password or inactive: Django's backend runs the hasher anyway
        throttle.hit(LOGIN_FAILURE_SCOPE, ident, rate)
        record_event(
            actor=None, action="login.failed", data={"username": username[:150], "channel": channel}, ip=ip
        )
        raise LoginFailed(username)
    record_event(actor=user, action="login", obj=user, data={"channel": channel}, ip=ip)
    return user


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


def set_mobile(*, user: User, mobile: str, actor: User | None = None) -> None:
    """Record (or, with "", remove) the staff member's mobile number for urgent SMS notices.
    Only mainland mobile numbers (11 digits) receive SMS; the change is audited without the number."""
    mobile = re.sub(r"[\s-]", "", mobile or "")
    if mobile and not MOBILE_RE.match(mobile):
        raise ValidationError({"mobile": _("请输入11位手机号码。")}, code="invalid_mobile")
    user.mobile = mobile
    user.mobile_mask = f"{mobile[:3]}****{mobile[-4:]}" if mobile else ""
    with transaction.atomic():
        user.save(update_fields=["mobile", "mobile_mask"])
        record_event(actor=actor, action="user.mobile", obj=user, data={"set": bool(mobile)})


def set_contact(*, user: User, email: str, mobile: str | None, actor: User | None = None) -> None:
    """Change where a staff member's reminders go: the e-mail address and the mobile for urgent
    SMS.  ``mobile`` None keeps the number on record ("" removes it): the page never shows it in
    full, so it cannot be sent back unchanged.  Validated completely before anything is written;
    audited without the values."""
    from django.core.validators import validate_email

    email = (email or "").strip()
    errors: dict[str, list[str]] = {}
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("请输入有效的电子邮箱地址。")]
    if mobile and not MOBILE_RE.match(re.sub(r"[\s-]", "", mobile)):
        errors["mobile"] = [_("请输入11位手机号码。")]
    if errors:
        raise ValidationError(errors, code="invalid_contact")
    with transaction.atomic():
        if user.email != email:
            user.email = email
            user.save(update_fields=["email"])
            record_event(actor=actor, action="user.email", obj=user, data={"set": bool(email)})
        if mobile is not None:
            set_mobile(user=user, mobile=mobile, actor=actor)
