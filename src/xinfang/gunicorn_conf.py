"""gunicorn's configuration for Xinfang in production (issue #12 §3; docs/deployment.md,
"Production serving").

    gunicorn -c python:xinfang.gunicorn_conf xinfang.wsgi:application

It lives in the package, not in a ``deploy/`` folder, so an installed venv has it: the systemd
unit and ``bench/http_bench.py`` name the module, and no checkout of the repository is needed on
the server.  Everything a site tunes comes from the environment (the same ``xinfang.env`` file
the application reads), so the file itself is never edited:

``GUNICORN_BIND``          address to listen on (default ``127.0.0.1:8000``; nginx in front)
``GUNICORN_WORKERS``       worker processes (default 2 × cores)
``GUNICORN_THREADS``       threads per worker (default 1: sync workers; > 1 selects ``gthread``)
``GUNICORN_TIMEOUT``       seconds a request may take before its worker is killed (default 60)
``GUNICORN_MAX_REQUESTS``  requests after which a worker is replaced (default 5000, 0: never)
``GUNICORN_ACCESS_LOG``    access log file, ``-`` for stderr (default: none)
``GUNICORN_PRELOAD``       ``1`` imports the application once in the master before forking
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return value in {"1", "true", "yes", "on"} if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# A web request's queries are short: no parallel workers for them (settings.py, DB_PARALLEL_WORKERS;
# a site may set its own value in the environment).
os.environ.setdefault("DB_PARALLEL_WORKERS", "0")

# Sync workers: every request is short CPU work plus a few quick queries, and a sync worker holds
# exactly one database connection (or one pooled one), so processes × 1 is what PostgreSQL sees.
# 2 × cores keeps the CPU busy while some workers wait on PostgreSQL.  Threads help only where
# requests wait long on I/O (a single-process SQLite site: --threads 8, docs/deployment.md).
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1))
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# A request that runs this long is stuck (the heavy work, PDFs and exports, runs in the
# background worker); killing it frees the process.  Uploads go through nginx's buffering.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # systemd's TimeoutStopSec is 30 too
keepalive = _int("GUNICORN_KEEPALIVE", 5)  # nginx keeps its upstream connections open

# Replace a worker after this many requests, so a slow leak (a library's cache, fragmentation)
# cannot grow without bound; the jitter keeps all workers from restarting in the same second.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(1, max_requests // 10)) if max_requests else 0

# Not preloaded by default: each worker imports Django itself after the fork, so no database
# connection, pool or thread made at import time can end up shared between processes, and
# ``systemctl reload`` (SIGHUP) brings new code in without a full stop.  Preloading saves a few
# seconds of start-up and some memory; sites that want it set GUNICORN_PRELOAD=1.
preload_app = _bool("GUNICORN_PRELOAD", False)

# Requests are logged by nginx and what matters is in the audit log; the access log is off unless
# asked for.  Its format ends with the time the request took in ms (%(M)s): bench/http_bench.py
# reads it as the server's time.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The heartbeat file of each worker in memory, not on a disk that may stall under load.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's own advice

# The scheme and client address that nginx passes are believed from these addresses only
# (the application honours X-Forwarded-* itself through XINFANG_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "xinfang-web"


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """Build the search segmenter (jieba's dictionary) before the worker takes its first request.

    Without preloading, each worker would otherwise build it inside its first registration or
    search: about a second of CPU on a quiet machine, 16 s measured under load (docs/performance.md,
    "HTTP workloads W1–W5").  A failure here only logs: the first request then builds it.
    """
    if not _bool("GUNICORN_WARM_SEGMENTER", True):
        return
    try:
        from xinfang.search import segment

        segment.tokenizer()
    except Exception:  # noqa: BLE001 - a warm-up must never stop a worker from starting
        worker.log.exception("search segmenter not warmed up")
    finally:
        from django.db import connections

        connections.close_all()  # the terms were read from the database: give the connection back
