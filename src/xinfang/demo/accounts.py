"""Demo staff accounts: one per role, with a published password.  Development only.

The password is printed and documented, so these accounts must never exist on a real system: the
``seed`` command refuses to create them unless ``settings.DEBUG`` is on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xinfang.accounts.services import mark_password_current
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.organisations.services import create_staff, set_mobile

from .tree import DemoTree

DEMO_PASSWORD = "xinfang-demo"  # noqa: S105 - published on purpose: demo accounts exist only under DEBUG


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str
    full_name: str
    where: Callable[[DemoTree], Organisation]  # the organisation the account belongs to


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", RoleCode.SYSADMIN, "系统管理员", lambda t: t.province.government),
    AccountSpec("secadmin", RoleCode.SECADMIN, "安全管理员", lambda t: t.province.government),
    AccountSpec("auditor", RoleCode.AUDITOR, "审计管理员", lambda t: t.province.government),
    AccountSpec("intake", RoleCode.INTAKE, "陈静", lambda t: _office(t.county_1)),
    AccountSpec("handler", RoleCode.HANDLER, "刘洋", lambda t: t.county_1.departments["人社局"]),
    AccountSpec("supervisor", RoleCode.SUPERVISOR, "赵敏", lambda t: _office(t.county_1)),
    AccountSpec("leader", RoleCode.LEADER, "王建国", lambda t: t.county_1.government),
    AccountSpec("handler_b", RoleCode.HANDLER, "孙磊", lambda t: t.other_city_county.departments["人社局"]),
    # County 1's city: reviews the county office's own replies and rechecks the county's reviews.
    AccountSpec("city_supervisor", RoleCode.SUPERVISOR, "周涛", lambda t: _office(t.cities[0])),
    # County 1's city government: the leader named on the city's listed supervision (挂牌督办).
    AccountSpec("city_leader", RoleCode.LEADER, "李卫东", lambda t: t.cities[0].government),
)


def _office(area: object) -> Organisation:
    office = area.office  # type: ignore[attr-defined]
    assert office is not None, "load_tree() found no petition office"
    return office


@dataclass(frozen=True)
class AccountRow:
    """One line of the accounts table printed at the end of ``xinfang seed --demo``."""

    username: str
    role: str
    organisation: str
    password: str
    created: bool


def ensure_accounts(tree: DemoTree) -> list[AccountRow]:
    """Create the demo accounts that do not exist yet; an existing username is left untouched
    (its password may have been changed, which the table cannot know)."""
    rows = []
    for spec in ACCOUNTS:
        user = User.objects.filter(username=spec.username).select_related("organisation").first()
        created = user is None
        if user is None:
            user = create_staff(
                username=spec.username,
                password=DEMO_PASSWORD,
                organisation=spec.where(tree),
                roles=[spec.role],
                full_name=spec.full_name,
                # The seed is the operator's path: no administrator exists yet to approve, so the
                # roles are set directly and audited as bootstrap (docs/security.md §2).
                bootstrap=True,
            )
            # The published password stays as the README prints it: not forced to change at the
            # first login.  The second factor is not waived (README: enrol once per account).
            mark_password_current(user=user)
        if not user.email and not user.mobile_mask:
            # Where the worker's reminders go in the demo: e-mail to var/mail/ (DEBUG), SMS to the
            # outbox page (the demo SMS backend).  A reserved domain and a fictitious number.
            User.objects.filter(pk=user.pk).update(email=f"{spec.username}@demo.xinfang.invalid")
            set_mobile(user=user, mobile=f"1990000{len(rows):04d}")
        rows.append(
            AccountRow(
                username=spec.username,
                role=str(RoleCode(spec.role).label),
                organisation=user.organisation.name if user.organisation else "",
                password=DEMO_PASSWORD,
                created=created,
            )
        )
    return rows
