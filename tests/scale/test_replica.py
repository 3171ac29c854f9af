"""The read replica (issue #12 §4, docs/deployment.md "Read replica").

First the router and its switches with plain settings (any database, no second server); then,
on PostgreSQL with the server binaries installed, against **two local clusters with streaming
replication** (tests/scale/replication.py): a primary and a hot standby on loopback ports, the
test database copied onto the primary, the test process's ``default`` pointed at the primary and a
``replica`` alias at the standby.  Replay on the standby is paused (``pg_wal_replay_pause()``) to
prove which server answered: a petition written meanwhile is missing from the stale lists and
present for the procedure, inside transactions and for a caller who just wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import freezegun
import pytest
from django.db import OperationalError, connection, connections, router, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from xinfang.core import replica
from xinfang.core.db_routers import ReplicaRouter
from xinfang.core.replica import ReplicaPinMiddleware, read_alias, stale_ok
from xinfang.petitions.models import Petition

from .replication import ReplicatedPair, missing_reason

PIN_MIDDLEWARE = "xinfang.core.replica.ReplicaPinMiddleware"
ROUTERS = ["xinfang.core.db_routers.ReplicaRouter"]


@pytest.fixture
def usable(monkeypatch):
    """A configured replica that the probe finds up to date (no server behind it)."""
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "replica_usable", lambda: True)


# --- the router, without a second server ---------------------------------------------------------


def test_writes_and_migrations_go_to_the_primary_and_relations_are_allowed(usable):
    r = ReplicaRouter()
    with stale_ok():
        assert r.db_for_write(Petition) == "default"
        assert r.db_for_read(Petition) == "replica"
    assert r.allow_migrate("default", "petitions") is True
    assert r.allow_migrate("replica", "petitions") is False
    assert r.allow_relation(object(), object()) is True


def test_only_reads_inside_stale_ok_go_to_the_replica(usable):
    assert read_alias("petitions") == "default"
    with stale_ok():
        assert read_alias("petitions") == "replica"
        assert read_alias("stats") == "replica"
        # the cache, sessions, the task queue and the throttle counters never
        for label in ("django_cache", "sessions", "django_q", "core"):
            assert read_alias(label) == "default"
        with replica.primary_only():
            assert read_alias("petitions") == "default"
        assert read_alias("petitions") == "replica"
    assert read_alias("petitions") == "default"


def test_no_replica_when_it_is_not_usable(monkeypatch):
    monkeypatch.setattr(replica, "replica_usable", lambda: False)
    with stale_ok():
        assert read_alias("petitions") == "default"


def test_no_replica_inside_a_transaction(usable, db):
    # pytest-django runs this test inside a transaction on default, as every service runs.
    with stale_ok():
        assert connections["default"].in_atomic_block
        assert read_alias("petitions") == "default"


def _alias_seen_by_view(request):
    with stale_ok():
        return HttpResponse(read_alias("petitions"))


@override_settings(XINFANG_REPLICA_PIN_SECONDS=10)
def test_a_browser_that_wrote_is_pinned_to_the_primary_for_a_while(usable):
    rf = RequestFactory()
    mw = ReplicaPinMiddleware(_alias_seen_by_view)
    assert mw(rf.get("/staff/")).content == b"replica"
    posted = mw(rf.post("/staff/x/"))
    cookie = posted.cookies[replica.PIN_COOKIE]
    assert cookie["max-age"] == 10 and cookie["httponly"]
    again = rf.get("/staff/")
    again.COOKIES[replica.PIN_COOKIE] = cookie.value
    assert mw(again).content == b"default"
    forged = rf.get("/staff/")
    forged.COOKIES[replica.PIN_COOKIE] = cookie.value[:-2] + "xx"
    assert mw(forged).content == b"replica"
    with freezegun.freeze_time(dt_after(11)):
        late = rf.get("/staff/")
        late.COOKIES[replica.PIN_COOKIE] = cookie.value
        assert mw(late).content == b"replica"


def dt_after(seconds: int):
    import datetime as dt

    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def test_an_api_client_that_wrote_is_pinned_by_its_token(usable):
    rf = RequestFactory()
    mw = ReplicaPinMiddleware(_alias_seen_by_view)
    mw(rf.post("/api/v1/petitions", HTTP_AUTHORIZATION="Bearer one"))
    # no cookie kept, as an integration does not keep them
    assert mw(rf.get("/api/v1/petitions", HTTP_AUTHORIZATION="Bearer one")).content == b"default"
    assert mw(rf.get("/api/v1/petitions", HTTP_AUTHORIZATION="Bearer two")).content == b"replica"


def test_a_replica_of_another_database_is_never_read(monkeypatch):
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    monkeypatch.setitem(settings.DATABASES, "replica", {**settings.DATABASES["default"], "NAME": "xinfang"})
    # e.g. the test runner renamed default to its test database and did not mirror the replica
    assert replica.replica_configured() is (name == "xinfang")
    monkeypatch.setitem(settings.DATABASES, "replica", {**settings.DATABASES["default"], "NAME": name})
    assert replica.replica_configured() is True
    monkeypatch.delitem(settings.DATABASES, "replica")
    assert replica.replica_configured() is False


def test_the_probe_is_cached_and_refuses_a_lagging_or_silent_replica(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    answers = iter([0.5, 20.0, None, OperationalError("connection refused")])
    calls = []

    def measure(alias: str = "replica") -> float | None:
        calls.append(alias)
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    monkeypatch.setattr(replica, "_measure_lag", measure)
    with override_settings(XINFANG_REPLICA_MAX_LAG=10, XINFANG_REPLICA_PROBE_SECONDS=60):
        replica.reset_probe()
        assert replica.replica_usable() is True
        assert replica.replica_usable() is True
        assert len(calls) == 1  # cached for the probe interval
        for _ in range(3):  # lagging 20 s, cannot tell, unreachable
            replica.reset_probe()
            assert replica.replica_usable() is False
        assert len(calls) == 4
    replica.reset_probe()


def test_a_replica_failing_mid_view_is_marked_down_and_the_view_runs_on_the_primary(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "_measure_lag", lambda alias="replica": 0.0)
    seen = []

    @stale_ok()
    def view() -> str:
        alias = read_alias("petitions")
        seen.append(alias)
        if alias == "replica":
            raise OperationalError("server closed the connection unexpectedly")
        return alias

    with override_settings(XINFANG_REPLICA_PROBE_SECONDS=60):
        replica.reset_probe()
        assert view() == "default"
        assert seen == ["replica", "default"]
        assert replica.replica_usable() is False  # until the next probe
    replica.reset_probe()

    @stale_ok()
    def broken() -> None:
        raise OperationalError("not the replica's fault")

    with pytest.raises(OperationalError):
        broken()


def test_the_stale_views_and_only_they_allow_the_replica():
    from xinfang.api.endpoints import petitions as api_petitions
    from xinfang.api.endpoints import statistics as api_statistics
    from xinfang.petitions import views as petition_views
    from xinfang.stats import dashboard_views, violation_views
    from xinfang.stats import views as stats_views

    stale = [
        stats_views.statistics,
        stats_views.drill_down,
        dashboard_views.dashboard_page,  # with the hotspots
        violation_views.violation_list,
        violation_views.handler_table,
        petition_views.queue,
        api_petitions.list_petitions,
        api_statistics.statistics,
    ]
    assert all(getattr(v, "_stale_ok", False) for v in stale)
    # the petition page (its action panel), registration and every write read the primary
    procedure = [
        petition_views.detail,
        petition_views.register,
        api_petitions.get_petition,
        api_petitions.create_petition,
    ]
    assert not any(getattr(v, "_stale_ok", False) for v in procedure)


def _settings_with(env: dict[str, str]) -> str:
    code = (
        "import xinfang.settings as s;"
        "print(sorted(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []),"
        " 'xinfang.core.replica.ReplicaPinMiddleware' in s.MIDDLEWARE,"
        " s.DATABASES.get('replica', {}).get('TEST'), s.DATABASES.get('replica', {}).get('PORT'))"
    )
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    full.update({"XINFANG_ENV_FILE": "/dev/null", "DEBUG": "1", **env})
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True)  # noqa: S603
    return out.stdout.strip()


def test_settings_install_the_router_only_with_a_replica_url():
    primary = "postgres://postgres@127.0.0.1:5432/xinfang"
    assert _settings_with({"DATABASE_URL": primary}) == "['default'] [] False None None"
    configured = _settings_with(
        {"DATABASE_URL": primary, "DATABASE_REPLICA_URL": "postgres://postgres@127.0.0.1:5433/xinfang"}
    )
    assert configured == (
        "['default', 'replica'] ['xinfang.core.db_routers.ReplicaRouter'] True {'MIRROR': 'default'} 5433"
    )


# --- two clusters with streaming replication -----------------------------------------------------


def _copy_test_database(pair: ReplicatedPair, source: dict, target: str) -> None:
    """The migrated test database onto the primary: far quicker than migrating again."""
    pair.psql(pair.primary_port, f"CREATE DATABASE {target}")
    env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
    dump = subprocess.Popen(  # noqa: S603
        [str(pair.bin_dir / "pg_dump"), "-Fc", "-h", source.get("HOST") or "127.0.0.1",
         "-p", str(source.get("PORT") or 5432), "-U", source.get("USER") or "postgres", source["NAME"]],
        stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    restore = subprocess.run(  # noqa: S603
        [str(pair.bin_dir / "pg_restore"), "--no-owner", "-h", "127.0.0.1", "-p", str(pair.primary_port),
         "-U", "postgres", "-d", target],
        stdin=dump.stdout, capture_output=True, text=True,
    )  # fmt: skip
    dump.stdout.close()
    if dump.wait() != 0 or restore.returncode != 0:
        raise RuntimeError(f"copying the test database failed: {restore.stderr}")


@pytest.fixture(scope="module")
def pair(request, django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("streaming replication needs PostgreSQL (DATABASE_URL=postgres://…)")
    if reason := missing_reason():
        pytest.skip(reason)
    default = connections["default"]
    own_setup = None
    with django_db_blocker.unblock():
        if default.settings_dict["NAME"] != default.creation._get_test_db_name():
            # Run alone (``-m scale``), no test asked pytest-django for the test database.
            from django.test.utils import setup_databases

            own_setup = setup_databases(verbosity=0, interactive=False, keepdb=True, aliases={"default"})
    saved = {k: default.settings_dict.get(k) for k in ("NAME", "HOST", "PORT", "USER", "PASSWORD")}
    pair = ReplicatedPair()
    with django_db_blocker.unblock():
        try:
            pair.start()
            _copy_test_database(pair, dict(default.settings_dict), "xinfang")
            default.close()
            default.settings_dict.update(
                NAME="xinfang", HOST="127.0.0.1", PORT=str(pair.primary_port), USER="postgres", PASSWORD=""
            )
            connections.settings["replica"] = {
                **default.settings_dict,
                "PORT": str(pair.standby_port),
                "OPTIONS": {**default.settings_dict.get("OPTIONS", {}), "connect_timeout": 2},
                "TEST": {**default.settings_dict.get("TEST", {}), "MIRROR": "default"},
            }
            with override_settings(
                DATABASE_ROUTERS=ROUTERS,
                XINFANG_REPLICA_MAX_LAG=30,
                XINFANG_REPLICA_PROBE_SECONDS=0,
                XINFANG_REPLICA_PIN_SECONDS=10,
            ):
                replica.reset_probe()
                yield pair
        finally:
            for alias in ("replica", "default"):
                if alias in connections.settings:
                    connections[alias].close()
            if "replica" in connections.settings:
                del connections["replica"]
                del connections.settings["replica"]
            default.settings_dict.update(saved)
            replica.reset_probe()
            pair.stop()
            if own_setup is not None and not request.config.getoption("reuse_db", False):
                from django.test.utils import teardown_databases

                teardown_databases(own_setup, verbosity=0)


@pytest.fixture(scope="module")
def county(pair):
    from tests.factories import make_county, make_staff
    from xinfang.organisations.choices import Level, OrganisationKind
    from xinfang.organisations.services import create_organisation

    province = create_organisation(
        name="复制省", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code="980000"
    )
    city = create_organisation(
        name="复制市", kind=OrganisationKind.GOVERNMENT, level=Level.CITY, parent=province, code="980100"
    )
    a = make_county("复制县", "980101", city)
    clerk = make_staff("repl_intake", a.office, "intake")
    pair.wait_replayed()
    return a, clerk


def _register(county) -> Petition:
    from tests.factories import register

    a, clerk = county
    return register(a.office, clerk, a.township).petition


def _visible_stale(clerk, pk: int) -> bool:
    with stale_ok():
        return Petition.objects.restrict(clerk).filter(pk=pk).exists()


class Paused:
    """Replay paused on the standby: it keeps receiving WAL but applies none of it."""

    def __init__(self, pair: ReplicatedPair) -> None:
        self.pair = pair

    def __enter__(self) -> Paused:
        self.pair.psql(self.pair.standby_port, "SELECT pg_wal_replay_pause()")
        return self

    def __exit__(self, *exc: object) -> None:
        self.pair.psql(self.pair.standby_port, "SELECT pg_wal_replay_resume()")
        self.pair.wait_replayed()


@pytest.mark.scale
def test_a_petition_written_on_the_primary_reaches_the_replica(pair, county):
    petition = _register(county)
    pair.wait_replayed()
    assert Petition.objects.using("replica").filter(pk=petition.pk, number=petition.number).exists()
    assert _visible_stale(county[1], petition.pk)


@pytest.mark.scale
def test_stale_lists_read_the_replica_and_the_procedure_the_primary(pair, county):
    from tests.api.conftest import petition_payload
    from tests.factories import PASSWORD
    from xinfang.api.services import obtain_token

    a, clerk = county
    token = obtain_token(username=clerk.username, password=PASSWORD, ip="127.0.0.9").token
    pair.wait_replayed()
    with Paused(pair):
        petition = _register(county)
        # stale: the replica has not replayed it
        with stale_ok():
            assert router.db_for_read(Petition) == "replica"
            assert router.db_for_write(Petition) == "default"
        assert not _visible_stale(clerk, petition.pk)
        # the procedure: outside stale_ok, and inside a transaction even within it
        assert Petition.objects.restrict(clerk).filter(pk=petition.pk).exists()
        with stale_ok(), transaction.atomic():
            assert router.db_for_read(Petition) == "default"
            assert Petition.objects.restrict(clerk).filter(pk=petition.pk).exists()

        with override_settings(MIDDLEWARE=[*_middleware(), PIN_MIDDLEWARE]):
            api = Client()
            auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            listed = api.get("/api/v1/petitions", {"limit": 100}, **auth).json()
            assert petition.number not in [p["number"] for p in listed["results"]]
            # the petition's own page is the procedure: the primary
            assert api.get(f"/api/v1/petitions/{petition.number}", **auth).status_code == 200
            # read-your-writes: the client registers one itself, then lists both at once
            created = api.post(
                "/api/v1/petitions", petition_payload(a.township), content_type="application/json", **auth
            )
            assert created.status_code == 201, created.content
            listed = api.get("/api/v1/petitions", {"limit": 100}, **auth).json()
            numbers = [p["number"] for p in listed["results"]]
            assert petition.number in numbers and created.json()["number"] in numbers

            staff = Client()
            staff.force_login(clerk)
            queue = reverse("petitions:queue")
            assert petition.number not in staff.get(queue).content.decode()
            assert replica.PIN_COOKIE not in staff.cookies
            staff.post(queue)  # any POST pins the browser (the test client skips CSRF)
            assert replica.PIN_COOKIE in staff.cookies
            assert petition.number in staff.get(queue).content.decode()
    # replay resumed and caught up: the stale list has it too
    assert _visible_stale(clerk, petition.pk)


def _middleware() -> list[str]:
    from django.conf import settings

    return [m for m in settings.MIDDLEWARE if m != PIN_MIDDLEWARE]


@pytest.mark.scale
def test_a_lagging_replica_is_left_for_the_primary(pair, county):
    clerk = county[1]
    with Paused(pair):
        petition = _register(county)
        pair.wait_received()
        time.sleep(1.2)
        replica.reset_probe()
        lag = replica._measure_lag()
        assert lag is not None and lag >= 1
        with override_settings(XINFANG_REPLICA_MAX_LAG=0.5):
            with stale_ok():
                assert router.db_for_read(Petition) == "default"
            assert _visible_stale(clerk, petition.pk)
        with override_settings(XINFANG_REPLICA_MAX_LAG=30):
            assert not _visible_stale(clerk, petition.pk)


@pytest.mark.scale
def test_a_stopped_replica_is_left_for_the_primary(pair, county):
    clerk = county[1]
    petition = _register(county)
    pair.wait_replayed()

    @stale_ok()
    def stale_list() -> list[int]:
        return list(Petition.objects.restrict(clerk).filter(pk=petition.pk).values_list("pk", flat=True))

    with override_settings(XINFANG_REPLICA_PROBE_SECONDS=60):
        replica.reset_probe()
        assert stale_list() == [petition.pk]  # through the replica; the probe said yes for 60 s
        assert replica._probe["ok"] is True
        pair.stop_standby()
        try:
            # the open connection to the replica fails: the view runs again on the primary
            assert stale_list() == [petition.pk]
            assert replica.replica_usable() is False
            replica.reset_probe()
            started = time.monotonic()
            with stale_ok():
                assert router.db_for_read(Petition) == "default"  # refused: the probe says no
            assert time.monotonic() - started < 3
        finally:
            pair.start_standby()
            pair.wait_streaming()
    replica.reset_probe()
