"""Shared fixtures: two counties in one city, with staff of every casework role.

Passwords are hashed with Argon2 at minimal cost everywhere (test_settings), the language is the
default one and the cache (throttles) is empty at the start of every test.
"""

from __future__ import annotations

from dataclasses import dataclass

import freezegun
import pytest

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation, User
from xinfang.organisations.services import create_organisation

from .factories import County, make_county, make_staff

# pytest times each test with _pytest.timing's clock: under a frozen clock its durations were the
# frozen date in seconds (--durations, as .ci/run prints them).  freezegun leaves that module alone.
freezegun.configure(extend_ignore_list=["_pytest.timing"])


@dataclass
class World:
    province: Organisation
    city: Organisation
    a: County
    b: County
    intake_a: User
    handler_a: User
    supervisor_a: User
    leader_a: User
    handler_b: User
    intake_b: User
    city_supervisor: User
    sysadmin: User
    secadmin: User
    auditor: User


@pytest.fixture
def world(db) -> World:
    province = create_organisation(
        name="西地省", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code="990000"
    )
    city = create_organisation(
        name="A市", kind=OrganisationKind.GOVERNMENT, level=Level.CITY, parent=province, code="990100"
    )
    city_office = create_organisation(
        name="A市信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.CITY, parent=city
    )
    a = make_county("甲县", "990101", city)
    b = make_county("乙县", "990102", city)
    return World(
        province=province,
        city=city,
        a=a,
        b=b,
        intake_a=make_staff("intake_a", a.office, "intake"),
        handler_a=make_staff("handler_a", a.department, "handler"),
        supervisor_a=make_staff("supervisor_a", a.office, "supervisor"),
        leader_a=make_staff("leader_a", a.government, "leader"),
        handler_b=make_staff("handler_b", b.department, "handler"),
        intake_b=make_staff("intake_b", b.office, "intake"),
        city_supervisor=make_staff("city_supervisor", city_office, "supervisor"),
        sysadmin=make_staff("sysadmin", province, "sysadmin"),
        secadmin=make_staff("secadmin", province, "secadmin"),
        auditor=make_staff("auditor", province, "auditor"),
    )


# --- transactional tests and the append-only audit table ---------------------------------------
# A transactional test (django_db(transaction=True), transactional_db, live_server) ends with a
# flush: DELETE FROM every table on SQLite, TRUNCATE on PostgreSQL.  The triggers of
# audit/migrations/0003_immutable.py refuse both, so the flush would fail and break every later
# test.  For those tests only, the triggers are dropped just before the flush and put back (by the
# migration's own SQL) at the start of the next transactional test.  Non-transactional tests run
# first (pytest-django orders them so) and always see the triggers exactly as migrated.


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    from pytest_django.fixtures import validate_django_db

    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        if transaction or reset_sequences:
            return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


def _audit_immutability_migration():
    import importlib

    return importlib.import_module("xinfang.audit.migrations.0003_immutable")


def _audit_triggers_present() -> bool:
    from django.db import connection

    queries = {
        "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        " AND name = 'audit_event_no_update'",
        "postgresql": "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_event_no_change'",
    }
    with connection.cursor() as cursor:
        cursor.execute(queries[connection.vendor])
        return cursor.fetchone()[0] > 0


def _set_audit_triggers(*, installed: bool) -> None:
    from django.apps import apps
    from django.db import connection

    if connection.vendor not in {"sqlite", "postgresql"} or _audit_triggers_present() == installed:
        return
    migration = _audit_immutability_migration()
    with connection.schema_editor() as editor:
        (migration.forwards if installed else migration.backwards)(apps, editor)


def _restore_reference_data() -> None:
    """Roles, the category tree and the deadline rules come from data migrations; a transactional
    test's flush empties them, so the next transactional test puts them back with the migrations'
    own functions."""
    import importlib

    from django.apps import apps

    importlib.import_module("xinfang.organisations.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("xinfang.petitions.migrations.0002_categories").seed_categories(apps, None)
    importlib.import_module("xinfang.petitions.migrations.0006_special_channels").set_channels(apps, None)
    importlib.import_module("xinfang.workflow.migrations.0002_rule_profiles").seed_rule_profiles(apps, None)


@pytest.fixture(autouse=True)
def _audit_triggers_around_flush(request: pytest.FixtureRequest):
    """Keep the audit triggers on during every test, yet let a transactional test's flush run."""
    if not _is_transactional(request):
        yield
        return
    # Set the database up first, so that this teardown runs before the flush.
    request.getfixturevalue("transactional_db")
    _set_audit_triggers(installed=True)
    _restore_reference_data()
    yield
    _set_audit_triggers(installed=False)


@pytest.fixture(autouse=True)
def default_language():
    """Run in the default language (zh-hans) whatever an earlier test left active on the thread.

    A view test whose client asks for English leaves English activated (LocaleMiddleware activates the
    request's language and nothing deactivates it), and messages compared in Chinese would then fail.
    """
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters (Django's cache) and the deadline engine's per-process caches of rules and
    holiday overrides outlive a test's database transaction: empty them around every test."""
    from django.core.cache import cache

    from xinfang.workflow import calendar, deadlines

    def clear() -> None:
        cache.clear()
        calendar.clear_cache()
        deadlines.clear_cache()

    clear()
    yield
    clear()
