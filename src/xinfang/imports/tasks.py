"""The worker's side of an import run started from the staff page."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from xinfang.core.files import open_plaintext

from . import services
from .models import ImportRun, RunStatus

log = logging.getLogger(__name__)

# A live run beats at every batch (some seconds) and every 2,000 checked rows.
STALE_AFTER = dt.timedelta(minutes=5)


def run_import(run_id: int) -> str:
    """Check or import the run's uploaded file.

    Claimed by one ``UPDATE … WHERE status = queued``: a second delivery while the run is alive
    finds it running and does nothing.  A run whose worker was killed keeps what it committed (whole
    batches, each row with its ``ImportedRecord``) and stops beating; the task's redelivery (ORM
    broker, after its lease) finds the heartbeat older than ``STALE_AFTER`` and resumes it: the rows
    already written are recognised as this run's and the rest are imported."""
    now = timezone.now()
    stale = Q(status=RunStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    with transaction.atomic():
        claimed = (
            ImportRun.objects.filter(pk=run_id)
            .filter(Q(status=RunStatus.QUEUED) | stale)
            .update(status=RunStatus.RUNNING, heartbeat_at=now)
        )
    if not claimed:
        return "not queued"
    run = ImportRun.objects.select_related("office", "created_by").get(pk=run_id)
    if not run.file:
        services._finish(run, RunStatus.FAILED, failure="上传的文件已删除，请重新上传。")
        return "no file"
    try:
        with open_plaintext(run.file) as reader:
            data = reader.read()
    except Exception:  # noqa: BLE001 — a missing or damaged file ends the run, visibly
        log.exception("import run %s: cannot read the uploaded file", run_id)
        services._finish(run, RunStatus.FAILED, failure="无法读取上传的文件，请重新上传。")
        return "unreadable"
    try:
        outcome = services.execute(run, data, actor=run.created_by)
    except services.ImportRefused as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 — recorded on the run, then re-raised for the worker's log
        services._finish(run, RunStatus.FAILED, failure=str(exc)[:500])
        raise
    return f"{outcome.imported} imported, {outcome.skipped} skipped, {outcome.rejected} rejected"
