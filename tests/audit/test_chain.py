"""The audit log's keyed hash chain (issue #7, point 22): every way a database owner can rewrite
history with the triggers switched off — delete, change, insert, reorder, cut the end — is found
by ``xinfang audit verify``, which names the first broken link and exits non-zero.

The tampering is done the way such an owner would: raw SQL after ``ALTER TABLE … DISABLE TRIGGER``
(PostgreSQL) or after dropping the triggers (SQLite, which cannot disable them), on both databases.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from xinfang.audit import chain
from xinfang.audit.chain import Break, Verified, verify
from xinfang.audit.models import AuditChainHead, AuditEvent
from xinfang.audit.services import record_event

TABLE = AuditEvent._meta.db_table
HEAD = AuditChainHead._meta.db_table
IMMUTABLE = importlib.import_module("xinfang.audit.migrations.0003_immutable")
ROWS = 6


@contextlib.contextmanager
def triggers_off() -> Iterator[None]:
    """What a database owner does first: switch the append-only triggers off, then back on."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        else:
            for sql in IMMUTABLE.SQLITE_REVERSE:
                cursor.execute(sql)
        yield
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
        else:
            for sql in IMMUTABLE.SQLITE:
                cursor.execute(sql)


def sql(statement: str, params: list | None = None) -> None:
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.fixture
def events(db) -> list[AuditEvent]:
    """Six events written the way services write them (the table starts empty in a test)."""
    return [
        record_event(actor=None, action="test.chain", data={"n": n, "who": "张三", "float": 1.0, "list": [n]})
        for n in range(1, ROWS + 1)
    ]


def broken(result: Verified | Break) -> Break:
    assert isinstance(result, Break), f"tampering was not detected: {result}"
    return result


# --- the intact chain -------------------------------------------------------------------------


def test_every_event_gets_the_next_place_in_the_chain_and_verifies(events):
    """Rows are numbered 1..n without gaps; verify walks them all; the head is the last row."""
    assert [e.seq for e in AuditEvent.objects.order_by("seq")] == list(range(1, ROWS + 1))
    result = verify()
    assert result == Verified(count=ROWS, seq=ROWS, chain_hash=events[-1].chain_hash)
    head = AuditChainHead.objects.get()
    assert (head.seq, head.chain_hash) == (ROWS, events[-1].chain_hash)


def test_each_hash_depends_on_the_previous_one(events):
    """The same content at another place, or after another row, hashes differently."""
    key = chain.keys()[0]
    row = chain.row_of(events[2])
    assert chain.row_hash(key, events[1].chain_hash, row) == events[2].chain_hash
    assert chain.row_hash(key, events[0].chain_hash, row) != events[2].chain_hash
    assert chain.row_hash(key, events[1].chain_hash, {**row, "seq": 4}) != events[2].chain_hash


def test_the_command_prints_the_anchor_when_intact(events, capsys):
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"共 {ROWS} 条" in out
    assert f"{ROWS}:{events[-1].chain_hash}" in out


def test_a_rolled_back_write_gives_its_place_back(events):
    """The seq is taken inside the writer's transaction: a failure leaves no gap."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=None, action="test.rolled_back")
        raise RuntimeError("the change being audited failed")
    event = record_event(actor=None, action="test.after")
    assert event.seq == ROWS + 1
    assert isinstance(verify(), Verified)


def test_bulk_create_is_refused(db):
    """Rows can only enter the chain one at a time, under the head's lock."""
    from xinfang.audit.models import AuditImmutableError

    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.bulk_create([AuditEvent(action="test.bulk")])


# --- tampering, each detected ---------------------------------------------------------------------


def test_deleting_a_row_is_detected(events):
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    found = broken(verify())
    assert found.seq == 4
    assert "缺少第 3 至第 3 条" in found.reason


def test_deleting_a_row_and_renumbering_the_rest_is_detected(events):
    """Closing the gap does not help: the next row's hash was made over the deleted one."""
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    sql(f"UPDATE {TABLE} SET seq = seq + 1000 WHERE seq > 3")  # noqa: S608
    sql(f"UPDATE {TABLE} SET seq = seq - 1001 WHERE seq > 1000")  # noqa: S608
    found = broken(verify())
    assert (found.seq, found.event_id) == (3, events[3].pk)
    assert "与链不符" in found.reason


def test_deleting_the_last_rows_is_detected_by_the_head(events):
    sql(f"DELETE FROM {TABLE} WHERE seq > 4")  # noqa: S608
    found = broken(verify())
    assert found.seq is None
    assert "链尾的记录被删除" in found.reason


def test_rewinding_the_head_after_cutting_the_end_is_detected(events):
    """The owner also sets the head back to the new last row: its MAC needs the key."""
    sql(f"DELETE FROM {TABLE} WHERE seq > 4")  # noqa: S608
    sql(f"UPDATE {HEAD} SET seq = 4, chain_hash = %s", [events[3].chain_hash])  # noqa: S608
    found = broken(verify())
    assert "链头的签名不符" in found.reason


def test_an_old_head_restored_is_caught_by_an_anchor(events):
    """A copy of an earlier head (taken while the owner had access) makes the cut chain look whole
    from inside the database; the anchor noted outside it still finds the cut."""
    old_head = AuditChainHead.objects.values_list("seq", "chain_hash", "mac").get()
    anchor = (ROWS + 1, record_event(actor=None, action="test.later").chain_hash)
    sql(f"DELETE FROM {TABLE} WHERE seq > %s", [ROWS])  # noqa: S608
    sql(f"UPDATE {HEAD} SET seq = %s, chain_hash = %s, mac = %s", list(old_head))  # noqa: S608
    assert isinstance(verify(), Verified)  # the limit of any chain kept in one database
    found = broken(verify(anchor=anchor))
    assert "锚点" in found.reason


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "forged"), ("actor_name", "someone"), ("ip", "192.0.2.254"), ("object_repr", "XF-1")],
)
def test_changing_a_column_is_detected(events, column, value):
    sql(f"UPDATE {TABLE} SET {column} = %s WHERE seq = 2", [value])  # noqa: S608
    found = broken(verify())
    assert (found.seq, found.event_id) == (2, events[1].pk)


def test_changing_the_data_is_detected(events):
    data = '{"n": 99, "who": "张三", "float": 1.0, "list": [2]}'
    sql(f"UPDATE {TABLE} SET data = %s WHERE seq = 2", [data])  # noqa: S608
    assert broken(verify()).seq == 2


def test_changing_the_time_is_detected(events):
    sql(f"UPDATE {TABLE} SET at = %s WHERE seq = 5", [events[4].at.replace(year=2020)])  # noqa: S608
    assert broken(verify()).seq == 5


def test_changing_a_row_and_its_hash_is_detected(events):
    """Recomputing a plain SHA-256 is not enough: the hash is keyed."""
    import hashlib

    forged = hashlib.sha256(b"forged").hexdigest()
    sql(f"UPDATE {TABLE} SET action = 'forged', chain_hash = %s WHERE seq = 2", [forged])  # noqa: S608
    assert broken(verify()).seq == 2


def test_inserting_a_row_at_the_end_is_detected(events):
    _insert(seq=ROWS + 1, chain_hash="0" * 64)
    sql(f"UPDATE {HEAD} SET seq = %s, chain_hash = %s", [ROWS + 1, "0" * 64])  # noqa: S608
    assert broken(verify()).seq == ROWS + 1


def test_inserting_a_row_in_the_middle_is_detected(events):
    sql(f"UPDATE {TABLE} SET seq = seq + 1000 WHERE seq >= 3")  # noqa: S608
    sql(f"UPDATE {TABLE} SET seq = seq - 999 WHERE seq > 1000")  # noqa: S608
    _insert(seq=3, chain_hash=events[2].chain_hash)  # even with a real hash copied from another row
    found = broken(verify())
    assert found.seq == 3


def test_inserting_a_row_without_a_place_is_refused_or_detected(events):
    """A row without seq is refused by the NOT NULL column; if the owner drops that too, verify
    names the row."""
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        _insert(seq=None, chain_hash="")


def test_reordering_two_rows_is_detected(events):
    sql(f"UPDATE {TABLE} SET seq = 1000 WHERE seq = 2")  # noqa: S608
    sql(f"UPDATE {TABLE} SET seq = 2 WHERE seq = 3")  # noqa: S608
    sql(f"UPDATE {TABLE} SET seq = 3 WHERE seq = 1000")  # noqa: S608
    found = broken(verify())
    assert (found.seq, found.event_id) == (2, events[2].pk)


def test_the_command_reports_the_first_break_and_fails(events):
    sql(f"DELETE FROM {TABLE} WHERE seq = 2")  # noqa: S608
    sql(f"UPDATE {TABLE} SET action = 'forged' WHERE seq = 5")  # noqa: S608
    with pytest.raises(CommandError, match="审计链断裂：第 3 条"):
        call_command("audit", "verify")


def test_the_command_exits_non_zero(events):
    """Django turns the CommandError into the process's exit status (run_from_argv)."""
    sql(f"DELETE FROM {TABLE} WHERE seq = 2")  # noqa: S608
    with pytest.raises(CommandError) as refused:
        call_command("audit", "verify")
    assert refused.value.returncode == 1


# --- keys ------------------------------------------------------------------------------------------


def test_a_chain_made_with_another_key_does_not_verify(events):
    with override_settings(XINFANG_AUDIT_KEY=["another-key"]):
        found = broken(verify())
    assert found.seq == 1
    assert "XINFANG_AUDIT_KEY" in found.reason


def test_after_key_rotation_old_rows_verify_with_the_old_key(events):
    """The first key signs new rows; the others still verify the rows they signed."""
    old = chain.keys()[0]
    with override_settings(XINFANG_AUDIT_KEY=["new-audit-key", old]):
        newer = record_event(actor=None, action="test.rotated")
        assert newer.key_id == chain.key_id("new-audit-key") != events[0].key_id
        assert isinstance(verify(), Verified)
    with override_settings(XINFANG_AUDIT_KEY=[old]):
        assert broken(verify()).seq == ROWS + 1


def test_without_a_key_outside_debug_nothing_is_written(db):
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(XINFANG_AUDIT_KEY=[], DEBUG=False), pytest.raises(ImproperlyConfigured):
        record_event(actor=None, action="test.nokey")


def _insert(*, seq: int | None, chain_hash: str) -> None:
    sql(
        f"INSERT INTO {TABLE} (at, actor_name, ip, action, object_type, object_id, object_repr, data,"  # noqa: S608
        " seq, key_id, chain_hash) VALUES (%s, '', '', 'forged', '', '', '', '{}', %s, %s, %s)",
        [AuditEvent.objects.first().at, seq, chain.key_id(chain.keys()[0]), chain_hash],
    )


def test_deploy_check_requires_the_key(db):
    from xinfang.audit.checks import check_audit_key

    assert check_audit_key() == []
    with override_settings(XINFANG_AUDIT_KEY=[]):
        assert [e.id for e in check_audit_key()] == ["xinfang.audit.E001"]


def test_the_anchor_file_catches_a_cut_end_on_the_next_run(events, tmp_path):
    """The scheduled job: each run checks the last noted anchor, then notes the new one."""
    anchors = tmp_path / "anchors"
    call_command("audit", "verify", "--anchor-file", str(anchors))
    record_event(actor=None, action="test.later")
    call_command("audit", "verify", "--anchor-file", str(anchors))
    assert anchors.read_text().splitlines() == [
        f"{ROWS}:{events[-1].chain_hash}",
        f"{ROWS + 1}:{verify().chain_hash}",
    ]

    # the owner cuts the last row and restores the head as it was before it (a copy they kept)
    old_head = chain.head_mac(chain.keys()[0], ROWS, events[-1].chain_hash)
    sql(f"DELETE FROM {TABLE} WHERE seq > %s", [ROWS])  # noqa: S608
    sql(f"UPDATE {HEAD} SET seq = %s, chain_hash = %s, mac = %s", [ROWS, events[-1].chain_hash, old_head])  # noqa: S608
    with pytest.raises(CommandError, match="锚点"):
        call_command("audit", "verify", "--anchor-file", str(anchors))
    assert len(anchors.read_text().splitlines()) == 2  # nothing noted after a failure


def test_the_documented_grants_are_the_ones_the_command_prints(capsys):
    """docs/deployment.md shows the statements of ``xinfang audit grants xinfang_app``, verbatim."""
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
    call_command("audit", "grants", "xinfang_app")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 6  # the sixth revokes everything on the audit log's monthly partitions
    for statement in printed:
        assert statement in docs


def test_emptying_the_whole_log_is_caught_by_an_anchor(events):
    """An empty log with a fresh head looks like a new installation; the anchor says otherwise."""
    anchor = (ROWS, events[-1].chain_hash)
    sql(f"DELETE FROM {TABLE}")  # noqa: S608
    sql(f"UPDATE {HEAD} SET seq = 0, chain_hash = '', mac = ''")  # noqa: S608
    assert verify() == Verified(count=0, seq=0, chain_hash="")
    assert "锚点" in broken(verify(anchor=anchor)).reason
