"""The import file's columns (docs/import.md): Chinese headers, what each maps to, the values each
accepts, and the downloadable template built from the same table."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinfang.petitions.choices import Channel, Conclusion, Purpose, Status
from xinfang.workflow.models import ReplyOutcome


@dataclass(frozen=True)
class Column:
    key: str  # the field of a parsed row
    header: str  # the header in the file (Chinese)
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str = ""


COLUMNS: tuple[Column, ...] = (
    Column(
        "source_id", "来源编号", ("原系统编号", "源编号"), True, "原系统中该件的唯一编号；重复导入据此识别"
    ),
    Column(
        "number",
        "信访件编号",
        ("信访编号", "编号"),
        False,
        "符合本机构编号格式（XF-机构代码-年份-六位序号）的保留原编号，否则另发新编号",
    ),
    Column("received_on", "收到日期", ("来信来访日期", "信访日期"), True, "任意年份均可，不得晚于今天"),
    Column("registered_on", "登记日期", (), False, "缺省同收到日期"),
    Column("channel", "信访形式", (), True, "见“可选值”表"),
    Column("purpose", "信访目的", (), False, "缺省为投诉请求"),
    Column("title", "标题", (), True, "不超过200字"),
    Column("content", "内容", ("信访内容", "诉求内容"), True, "至少10个字"),
    Column("name", "姓名", ("信访人", "信访人姓名"), True, "信访人（代表）姓名"),
    Column("id_number", "身份证号", ("身份证号码", "证件号码"), False, "18位居民身份证号码，加密保存"),
    Column("phone", "电话", ("联系电话", "手机号"), False, "加密保存"),
    Column("address", "地址", ("住址",), False, "加密保存"),
    Column("headcount", "人数", ("来访人数",), False, "缺省为1"),
    Column("category", "问题类别", ("问题分类",), True, "问题分类的代码或名称（末级分类）"),
    Column("locality", "问题属地", (), True, "行政区划代码或政府名称"),
    Column("subject_name", "被反映人", ("被反映人/单位",), False, "自由文本"),
    Column("subject_organisation", "被反映单位", (), False, "机构名称或代码"),
    Column("unit", "责任单位", ("承办单位",), False, "已转送、已交办、已受理时必填；机构名称或代码"),
    Column("status", "状态", ("办理状态",), True, "见“可选值”表"),
    Column(
        "closed_on",
        "办结日期",
        ("答复日期", "终结日期"),
        False,
        "已答复、不予受理、已告知其他途径、已终结、已撤回时必填",
    ),
    Column("due_on", "办理期限", (), False, "未办结的件可填；缺省按收到日期和规则计算"),
    Column("reply", "答复意见", ("处理意见", "答复内容"), False, "已答复时必填；保存为处理意见书"),
    Column("outcome", "答复结果", ("处理结果",), False, "支持、解释说明、不予支持；缺省为解释说明"),
    Column("conclusion", "终结理由", (), False, "已终结时可填；缺省为未在规定期限内请求复查"),
    Column("note", "处理说明", ("备注",), False, "不予受理、告知其他途径、撤回的理由等，记入办理过程"),
)

BY_KEY = {c.key: c for c in COLUMNS}

# The final or standing states a past petition can be brought in with.  The states in the middle of
# an appeal or a dispute (已退回, 管辖争议待决定, 复查中, 已复查, 复核中) and 已合并 need records of
# their own (the appeal, the dispute, the merged-into petition) that a row cannot carry: import such
# a case in its last plain state and continue it in Xinfang (docs/import.md, "States").
IMPORTABLE_STATUSES: tuple[str, ...] = (
    Status.REGISTERED,
    Status.FORWARDED,
    Status.ASSIGNED,
    Status.ACCEPTED,
    Status.REPLIED,
    Status.DECLINED,
    Status.REDIRECTED,
    Status.CONCLUDED,
    Status.WITHDRAWN,
)
# Words old systems use for a finished case: concluded (终结), as the petition would be by now.
STATUS_ALIASES = {
    "办结": Status.CONCLUDED,
    "已办结": Status.CONCLUDED,
    "终结": Status.CONCLUDED,
    "登记": Status.REGISTERED,
}
NEEDS_UNIT = frozenset({Status.FORWARDED, Status.ASSIGNED})
NEEDS_CLOSED_ON = frozenset(
    {Status.REPLIED, Status.DECLINED, Status.REDIRECTED, Status.CONCLUDED, Status.WITHDRAWN}
)


def _lookup(
    choices: type, *, extra: dict[str, str] | None = None, only: tuple[str, ...] | None = None
) -> dict[str, str]:
    """Label (Chinese) and value (English code) → value, for one set of choices."""
    table: dict[str, str] = {}
    for value, label in choices.choices:
        if only is not None and value not in only:
            continue
        table[str(label)] = value
        table[value] = value
    table.update(extra or {})
    return table


def channel_values() -> dict[str, str]:
    return _lookup(Channel, extra={"信访": Channel.LETTER, "来电来访": Channel.PHONE, "网信": Channel.ONLINE})


def purpose_values() -> dict[str, str]:
    return _lookup(Purpose)


def status_values() -> dict[str, str]:
    return _lookup(Status, extra={k: str(v) for k, v in STATUS_ALIASES.items()}, only=IMPORTABLE_STATUSES)


def outcome_values() -> dict[str, str]:
    return _lookup(ReplyOutcome)


def conclusion_values() -> dict[str, str]:
    return _lookup(Conclusion)


def header_map(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Column key → position, from the file's header row; and the required headers missing."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.header, *column.aliases):
            names[name] = column.key
    positions: dict[str, int] = {}
    for i, header in enumerate(headers):
        key = names.get((header or "").strip().replace(" ", "").rstrip("*＊"))
        if key and key not in positions:
            positions[key] = i
    missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
    return positions, missing


EXAMPLE_ROW = {
    "source_id": "JXT-2009-00017",
    "number": "",
    "received_on": "2009-03-16",
    "registered_on": "2009-03-16",
    "channel": "来信",
    "purpose": "投诉请求",
    "title": "反映某小区供暖不达标",
    "content": "某小区冬季室内温度长期低于十六度，多次向物业反映未解决，请求督促供热单位整改。",
    "name": "王某某",
    "id_number": "",
    "phone": "",
    "address": "",
    "headcount": "1",
    "category": "",
    "locality": "",
    "subject_name": "某物业公司",
    "subject_organisation": "",
    "unit": "",
    "status": "已答复",
    "closed_on": "2009-04-20",
    "due_on": "",
    "reply": "经调查，供热单位已于2009年4月完成管网改造，室温已达标。",
    "outcome": "支持",
    "conclusion": "",
    "note": "",
}


def template_xlsx() -> bytes:
    """The template to download: the headers (required ones marked *), one example row, and a sheet
    of the allowed values of every coded column."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("信访件")
    sheet.append([c.header + ("*" if c.required else "") for c in COLUMNS])
    sheet.append([EXAMPLE_ROW.get(c.key, "") for c in COLUMNS])
    for i, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=i).comment = None
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = max(
            10, len(column.header) * 3
        )
    values = book.create_sheet(_("可选值"))
    values.append([_("列"), _("可填的值")])
    values.append([BY_KEY["channel"].header, "、".join(str(label) for _v, label in Channel.choices)])
    values.append([BY_KEY["purpose"].header, "、".join(str(label) for _v, label in Purpose.choices)])
    values.append(
        [
            BY_KEY["status"].header,
            "、".join(str(Status(s).label) for s in IMPORTABLE_STATUSES) + "（“办结”按已终结导入）",
        ]
    )
    values.append([BY_KEY["outcome"].header, "、".join(str(label) for _v, label in ReplyOutcome.choices)])
    values.append([BY_KEY["conclusion"].header, "、".join(str(label) for _v, label in Conclusion.choices)])
    values.append([_("日期"), "2009-03-16、2009/3/16、2009年3月16日，或Excel日期"])
    notes = book.create_sheet(_("列说明"))
    notes.append([_("列"), _("必填"), _("说明")])
    for column in COLUMNS:
        notes.append([column.header, _("是") if column.required else "", column.note])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
