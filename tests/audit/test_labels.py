"""Every action code the code base writes has a Chinese label for the audit page (issue #7, point 23).

The codes are found in the source itself: every string given as ``action=`` to ``record_event``
(and every dotted code handed to a helper that passes it on, such as the four-eyes ``_decide``),
plus ``petition.<action>`` for each transition of the procedure, which ``engine.perform`` writes.
A new ``record_event(action="…")`` without a label fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from xinfang.audit import labels
from xinfang.workflow.transitions import TRANSITIONS

SOURCE = Path(__file__).resolve().parents[2] / "src" / "xinfang"


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _strings(node: ast.expr) -> list[str]:
    return [c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)]


def audit_codes_in_source() -> dict[str, str]:
    """code → the file that writes it."""
    found: dict[str, str] = {}
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            direct = _name(node.func) == "record_event"
            for keyword in node.keywords:
                if keyword.arg != "action" or isinstance(keyword.value, ast.JoinedStr):
                    continue  # f"petition.{action}": the transitions, checked below
                for code in _strings(keyword.value):
                    if direct or "." in code:
                        found.setdefault(code, str(path.relative_to(SOURCE)))
    return found


def test_the_scan_finds_the_codes_it_should():
    codes = audit_codes_in_source()
    assert {"login", "petition.register", "petition.view", "audit.search", "user.roles"} <= set(codes)
    assert len(codes) > 30


def test_every_action_code_in_the_code_base_has_a_label():
    missing = {
        code: path for code, path in audit_codes_in_source().items() if labels.action_label(code) == code
    }
    assert missing == {}, "add these to xinfang/audit/labels.py"


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_transition_has_a_label(action):
    """Registered by the workflow app from the transition table itself (workflow/audit_labels.py)."""
    assert labels.action_label(f"petition.{action}") == str(TRANSITIONS[action].label)


def test_details_are_spelled_out_in_chinese():
    shown = labels.details(
        {"from": "registered", "to": "forwarded", "unit": 7, "portal": True, "roles": ["intake", "handler"]},
        {7: "甲县人社局"},
    )
    assert shown == [
        ("原状态", "已登记"),
        ("新状态", "已转送"),
        ("责任单位", "甲县人社局"),
        ("网上信访", "是"),
        ("角色", "登记员、承办人"),
    ]


def test_nested_details_and_empty_values():
    shown = labels.details(
        {"before": {"name": "旧名"}, "after": {"name": "新名"}, "repeat_of": None, "reasons": ""}
    )
    assert shown == [
        ("修改前", "名称：旧名"),
        ("修改后", "名称：新名"),
        ("重复信访的原事项", "—"),
        ("理由", "—"),
    ]


def test_an_unknown_code_shows_as_itself():
    assert labels.action_label("retired.action") == "retired.action"
    assert labels.details({"mystery": 1}) == [("mystery", "1")]
