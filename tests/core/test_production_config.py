"""The production configuration of issue #12 §3 (docs/deployment.md, "Production serving"):
the database pool switched on from the environment, gunicorn's configuration, WhiteNoise's
far-future cached and compressed static files, and the bench's locustfile."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

import xinfang
from xinfang.petitions.validators import check_id_number

SRC = Path(xinfang.__file__).resolve().parent
ROOT = SRC.parent.parent

# Settings are read from the environment at import: each case runs the module afresh with its own
# environment (runpy), never touching the settings of this test session.
BASE_ENV = {
    "XINFANG_ENV_FILE": "/dev/null",
    "DEBUG": "1",
    "DATABASE_URL": "postgres://xinfang@127.0.0.1:5432/xinfang",
}


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in (
        "DB_POOL_MAX_SIZE", "DB_POOL_MIN_SIZE", "DB_POOL_TIMEOUT", "DB_CONN_MAX_AGE", "CACHE_URL",
        "DB_PARALLEL_WORKERS",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in {**BASE_ENV, **env}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SRC / "settings.py"))


def test_pool_from_the_environment_replaces_persistent_connections(monkeypatch):
    db = settings_with(monkeypatch, DB_POOL_MAX_SIZE="8", DB_POOL_MIN_SIZE="2")["DATABASES"]["default"]
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10.0}
    # Django refuses a pool together with CONN_MAX_AGE > 0 ("Pooling doesn't support persistent
    # connections"), even when DB_CONN_MAX_AGE is set for the unpooled case.
    monkeypatch.setenv("DB_CONN_MAX_AGE", "60")
    db = settings_with(monkeypatch, DB_POOL_MAX_SIZE="4", DB_CONN_MAX_AGE="60")["DATABASES"]["default"]
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 4
    assert db["OPTIONS"]["options"] == "-c jit=off"  # the other options are kept


def test_the_web_server_asks_for_no_parallel_workers(monkeypatch):
    """gunicorn_conf sets DB_PARALLEL_WORKERS=0 for the web processes (a queue page's index walk
    of 4 ms waited 15-25 ms for parallel workers to start); other processes keep the default."""
    db = settings_with(monkeypatch, DB_PARALLEL_WORKERS="0")["DATABASES"]["default"]
    assert db["OPTIONS"]["options"] == "-c jit=off -c max_parallel_workers_per_gather=0"
    assert settings_with(monkeypatch)["DATABASES"]["default"]["OPTIONS"]["options"] == "-c jit=off"
    monkeypatch.setenv("DB_PARALLEL_WORKERS", "")  # recorded, so what the config sets is undone
    monkeypatch.delenv("DB_PARALLEL_WORKERS")
    conf = runpy.run_path(str(SRC / "gunicorn_conf.py"))
    assert conf["os"].environ["DB_PARALLEL_WORKERS"] == "0"


def test_without_the_variable_no_pool_and_persistent_connections(monkeypatch):
    db = settings_with(monkeypatch)["DATABASES"]["default"]
    assert "pool" not in db.get("OPTIONS", {})
    assert db["CONN_MAX_AGE"] == 60


def test_sqlite_never_gets_a_pool(monkeypatch):
    db = settings_with(monkeypatch, DATABASE_URL="sqlite:////tmp/x.sqlite3", DB_POOL_MAX_SIZE="8")
    assert "pool" not in db["DATABASES"]["default"]["OPTIONS"]


def test_pooled_settings_open_a_django_pool(monkeypatch):
    """The dict is what Django's backend accepts: it builds a psycopg_pool.ConnectionPool from it
    (without connecting: the pool opens on first use)."""
    pytest.importorskip("psycopg_pool")
    from django.db.backends.postgresql.base import DatabaseWrapper
    from psycopg_pool import ConnectionPool

    db = settings_with(monkeypatch, DB_POOL_MAX_SIZE="3")["DATABASES"]["default"]
    db.setdefault("TIME_ZONE", None)
    db.setdefault("AUTOCOMMIT", True)
    wrapper = DatabaseWrapper({**db, "TEST": {}}, alias="pool_probe")
    try:
        assert isinstance(wrapper.pool, ConnectionPool)
        assert wrapper.pool.max_size == 3
    finally:
        DatabaseWrapper._connection_pools.pop("pool_probe", None)


def test_redis_cache_url_selects_djangos_redis_cache(monkeypatch):
    caches = settings_with(monkeypatch, CACHE_URL="redis://127.0.0.1:6379/3")["CACHES"]
    assert caches["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
    }


def test_production_static_storage_is_compressed_and_hashed(monkeypatch):
    conf = settings_with(
        monkeypatch, DEBUG="0", SECRET_KEY="x" * 50, XINFANG_FIELD_KEYS="k", XINFANG_BLIND_INDEX_KEY="b"
    )
    assert (
        conf["STORAGES"]["staticfiles"]["BACKEND"]
        == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert conf["MIDDLEWARE"][1] == "whitenoise.middleware.WhiteNoiseMiddleware"  # right after security


# --- gunicorn ------------------------------------------------------------------------------------


def gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in [n for n in __import__("os").environ if n.startswith("GUNICORN_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SRC / "gunicorn_conf.py"))


def test_gunicorn_conf_names_only_real_settings(monkeypatch):
    from gunicorn.config import KNOWN_SETTINGS

    known = {s.name for s in KNOWN_SETTINGS}
    conf = gunicorn_conf(monkeypatch)
    public = {k for k, v in conf.items() if not k.startswith("_") and not callable(v) and k != "annotations"}
    public -= {"os"}
    assert public and public <= known, public - known


def test_gunicorn_conf_defaults(monkeypatch):
    import os

    conf = gunicorn_conf(monkeypatch)
    assert conf["workers"] == 2 * (os.cpu_count() or 1)
    assert conf["worker_class"] == "sync"
    assert conf["preload_app"] is False
    assert conf["max_requests"] == 5000 and conf["max_requests_jitter"] == 500
    assert conf["accesslog"] is None
    assert conf["bind"] == "127.0.0.1:8000"


def test_gunicorn_conf_reads_its_environment(monkeypatch):
    conf = gunicorn_conf(
        monkeypatch,
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="8",
        GUNICORN_BIND="0.0.0.0:9000",
        GUNICORN_TIMEOUT="15",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_ACCESS_LOG="-",
        GUNICORN_PRELOAD="1",
    )
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (3, 8, "gthread")
    assert conf["bind"] == "0.0.0.0:9000" and conf["timeout"] == 15
    assert conf["max_requests"] == 0 and conf["max_requests_jitter"] == 0
    assert conf["accesslog"] == "-" and conf["preload_app"] is True


def test_gunicorn_loads_the_config_module():
    """gunicorn itself accepts the module (``-c python:xinfang.gunicorn_conf``)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--print-config",
            "-c",
            "python:xinfang.gunicorn_conf",
            "wsgiref.simple_server:demo_app",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "GUNICORN_WORKERS": "5"},
    )
    assert result.returncode == 0, result.stderr
    assert any(line.split() == ["workers", "=", "5"] for line in result.stdout.splitlines())


# --- WhiteNoise ----------------------------------------------------------------------------------


def test_static_files_far_future_cached_and_compressed(tmp_path):
    """Not DEBUG: collectstatic writes hashed, compressed copies and WhiteNoise serves the hashed
    name with a ten-year, immutable Cache-Control and the compressed body.  One stylesheet of the
    project's own (the finders limited to it: collecting every app's files takes 5-15 s)."""
    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    stylesheet = (SRC / "static" / "xinfang" / "css" / "print.css").read_text()
    (source / "css" / "site.css").write_text(stylesheet * 3)  # large enough to be worth compressing
    root = tmp_path / "static"
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(
        DEBUG=False,
        STATIC_ROOT=root,
        STATICFILES_DIRS=[source],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
        STORAGES=storages,
        WHITENOISE_AUTOREFRESH=False,
    ):
        call_command("collectstatic", "--noinput", "-v0")
        hashed = json.loads((root / "staticfiles.json").read_text())["paths"]["css/site.css"]
        assert hashed != "css/site.css" and (root / f"{hashed}.gz").exists()
        client = Client()
        response = client.get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert "max-age=315360000" in response["Cache-Control"]
        assert "immutable" in response["Cache-Control"]
        assert response["Content-Encoding"] == "gzip"
        assert response["Vary"] == "Accept-Encoding"
        # The unhashed name is served too, but briefly cached: it may change with the next release.
        plain = client.get("/static/css/site.css")
        assert plain.status_code == 200
        assert "immutable" not in plain["Cache-Control"]


# --- the bench's locustfile ----------------------------------------------------------------------


def test_locustfile_imports_and_makes_valid_registrations():
    """In a subprocess: locust patches sockets with gevent on import.  No network is used."""
    script = (
        "import json, random, runpy, datetime as dt;"
        f"m = runpy.run_path({str(ROOT / 'bench' / 'locust' / 'locustfile.py')!r});"
        "assert {'Register', 'Read'} <= set(m);"
        "rng = random.Random(7);"
        "print(json.dumps([m['registration_body'](rng, category=3, locality=9, today=dt.date(2026, 12, 2))"
        " for _ in range(50)], ensure_ascii=False))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert result.returncode == 0, result.stderr
    bodies = json.loads(result.stdout)
    from xinfang.api.schemas import PetitionIn

    for body in bodies:
        PetitionIn.model_validate(body)
        person = body["petitioners"][0]
        assert check_id_number(person["id_number"]) == person["id_number"]
        assert len(person["phone"]) == 11
    # Some petitioners come back (the repeat look-up is exercised), most are new.
    numbers = [b["petitioners"][0]["id_number"] for b in bodies]
    assert 30 <= len(set(numbers)) < len(numbers)


def test_gunicorn_warms_the_search_segmenter_after_fork(monkeypatch):
    """post_worker_init builds jieba's dictionary in each worker before its first request, and a
    failure there is logged, never fatal."""
    from xinfang.search import segment

    built: list[int] = []
    monkeypatch.setattr(segment, "tokenizer", lambda: built.append(1))
    logged: list[str] = []
    worker = type("Worker", (), {"log": type("Log", (), {"exception": lambda self, m: logged.append(m)})()})()
    conf = gunicorn_conf(monkeypatch)
    conf["post_worker_init"](worker)
    assert built == [1] and not logged

    monkeypatch.setattr(segment, "tokenizer", lambda: 1 / 0)
    conf["post_worker_init"](worker)
    assert logged == ["search segmenter not warmed up"]

    built.clear()
    monkeypatch.setattr(segment, "tokenizer", lambda: built.append(1))
    gunicorn_conf(monkeypatch, GUNICORN_WARM_SEGMENTER="0")["post_worker_init"](worker)
    assert built == []
