"""``xinfang worker``: the background worker (a django-q2 cluster), i.e. ``qcluster`` under our name.

It takes tasks from the broker (this database by default, Redis with ``XINFANG_TASK_REDIS_URL``)
and, unless ``XINFANG_WORKER_SCHEDULER=false``, queues the periodic jobs when due.  SIGTERM or
Ctrl-C stops it after the tasks in hand; a task whose worker died is handed out again after
``XINFANG_TASK_RETRY`` seconds (ORM broker; on Redis the job's next scheduled run does the rest).
Production layout: docs/deployment.md.
"""

from __future__ import annotations

from django_q.management.commands.qcluster import Command as QClusterCommand


class Command(QClusterCommand):
    help = "启动后台任务进程（django-q2 集群）：执行排队的任务，并按计划排入周期任务。"
