"""Staff accounts and roles (services.create_staff, set_roles): 三员分立 and password hashing."""

from __future__ import annotations

import importlib
import itertools

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.exceptions import ValidationError
from django.test import override_settings

from xinfang.audit.models import AuditEvent
from xinfang.organisations.choices import ADMIN_ROLES, CASEWORK_ROLES, RoleCode
from xinfang.organisations.models import User
from xinfang.organisations.services import create_staff, set_roles

from ..factories import PASSWORD, make_staff

ADMIN = sorted(ADMIN_ROLES)
BUSINESS = sorted(CASEWORK_ROLES)
TWO_ADMIN_DUTIES = "系统管理员、安全管理员、审计管理员三种职责不得由同一人兼任。"
ADMIN_AND_BUSINESS = "管理员账号不得同时承担业务角色。"


@pytest.mark.parametrize(
    "roles",
    [list(pair) for pair in itertools.combinations(ADMIN, 2)] + [ADMIN],
    ids=lambda roles: "+".join(roles),
)
def test_two_admin_duties_are_refused(world, roles):
    """No one holds two of the three administrator duties (三员分立); the roles stay as they were."""
    # given a security administrator
    user = world.secadmin
    events = AuditEvent.objects.filter(action="user.roles").count()

    # when given two or three administrator duties
    with pytest.raises(ValidationError) as refused:
        set_roles(user=user, roles=roles, actor=world.sysadmin)

    # then it is refused with the reason, and nothing changed
    assert refused.value.code == "admin_duties"
    assert refused.value.messages == [TWO_ADMIN_DUTIES]
    user.refresh_from_db()
    assert set(user.roles.values_list("code", flat=True)) == {"secadmin"}
    assert AuditEvent.objects.filter(action="user.roles").count() == events


@pytest.mark.parametrize(
    "roles", [[a, b] for a in ADMIN for b in BUSINESS], ids=lambda roles: "+".join(roles)
)
def test_admin_duty_with_business_role_is_refused(world, roles):
    """An administrator account never also works on petitions."""
    user = world.intake_a
    with pytest.raises(ValidationError) as refused:
        set_roles(user=user, roles=roles, actor=world.secadmin)
    assert refused.value.code == "admin_duties"
    assert refused.value.messages == [ADMIN_AND_BUSINESS]
    assert set(user.roles.values_list("code", flat=True)) == {"intake"}


def test_unknown_role_is_refused(world):
    """A role code that does not exist is refused, not silently dropped while the audit says granted."""
    user = world.intake_a
    with pytest.raises(ValidationError) as refused:
        set_roles(user=user, roles=["intake", "superuser"], actor=world.secadmin)
    assert refused.value.code == "unknown_role"
    assert refused.value.messages == ["未知的角色：superuser"]
    assert set(user.roles.values_list("code", flat=True)) == {"intake"}
    assert all("superuser" not in e.data["roles"] for e in AuditEvent.objects.filter(action="user.roles"))


@pytest.mark.parametrize("roles", [[a] for a in ADMIN] + [BUSINESS, ["handler"], []], ids=str)
def test_allowed_combinations(world, roles):
    """One administrator duty alone, any mix of business roles, or none, is allowed and audited."""
    # given a clerk whose role codes were already read (and cached)
    user = world.intake_a
    assert user.role_codes == {"intake"}

    # when the roles are set (the operator's bootstrap path; the four-eyes path is in
    # test_four_eyes.py)
    set_roles(user=user, roles=roles, bootstrap=True)

    # then the roles, the cached codes and the audit log agree
    assert set(user.roles.values_list("code", flat=True)) == set(roles)
    assert user.role_codes == frozenset(roles)
    event = AuditEvent.objects.filter(action="user.roles", object_id=str(user.pk)).latest("id")
    assert event.actor is None
    assert event.data == {"roles": sorted(roles), "bootstrap": True}


def test_create_staff_with_refused_roles_creates_no_account(world):
    """Account and roles are created together: a refused combination leaves no account behind."""
    users = User.objects.count()
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        make_staff("twohats", world.province, "sysadmin", "auditor")
    assert User.objects.count() == users
    assert not User.objects.filter(username="twohats").exists()
    assert AuditEvent.objects.count() == events


def test_create_staff_is_audited_without_the_password(world):
    """Creating an account writes user.create and, for its roles, a grant.request that a second
    administrator approves (issue #7 point 16); neither holds the password."""
    user = create_staff(
        username="new_clerk",
        password=PASSWORD,
        organisation=world.a.office,
        roles=["intake"],
        full_name="新登记员",
        actor=world.secadmin,
    )
    events = AuditEvent.objects.filter(object_id=str(user.pk), object_type="organisations.user")
    assert sorted(events.values_list("action", flat=True)) == ["user.create"]
    assert user.role_codes == frozenset()
    grant = AuditEvent.objects.get(action="grant.request")
    assert grant.data["payload"]["roles"] == ["intake"]
    events = AuditEvent.objects.filter(pk__in=[*events.values_list("pk", flat=True), grant.pk])
    assert all(PASSWORD not in str(e.data) and user.password not in str(e.data) for e in events)
    assert events.get(action="user.create").data == {"organisation": world.a.office.pk}


def test_duplicate_username_is_refused(world):
    """User names are unique."""
    with pytest.raises(ValidationError) as refused:
        make_staff("intake_a", world.a.office, "intake")
    assert "username" in refused.value.message_dict


# --- password hashing ----------------------------------------------------------------------------


def test_production_hasher_is_argon2():
    """The production settings hash with Argon2 first (PBKDF2 only to read older hashes)."""
    production = importlib.import_module("xinfang.settings")
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_passwords_are_stored_as_argon2(world):
    """A staff member's password is stored as an Argon2 hash, never in clear."""
    with override_settings(PASSWORD_HASHERS=importlib.import_module("xinfang.settings").PASSWORD_HASHERS):
        user = create_staff(
            username="argon", password=PASSWORD, organisation=world.a.office, roles=["intake"], bootstrap=True
        )
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert PASSWORD not in user.password
    assert check_password(PASSWORD, user.password)
    assert not check_password(PASSWORD + "x", user.password)


def test_roles_enum_has_exactly_three_admin_duties():
    """The separated duties are exactly sysadmin, secadmin and auditor; the rest are casework roles."""
    assert {RoleCode.SYSADMIN, RoleCode.SECADMIN, RoleCode.AUDITOR} == ADMIN_ROLES
    assert set(RoleCode) == ADMIN_ROLES | CASEWORK_ROLES
    assert not ADMIN_ROLES & CASEWORK_ROLES
