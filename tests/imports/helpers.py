"""Building import files for the tests (synthetic rows only)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from xinfang.imports.columns import COLUMNS

from ..factories import leaf_category, make_id_number

HEADERS = [c.header for c in COLUMNS]


def row(world: Any, source_id: str, **values: Any) -> dict[str, Any]:
    base = {
        "来源编号": source_id,
        "收到日期": "2009-03-16",
        "信访形式": "来信",
        "信访目的": "投诉请求",
        "标题": "反映供暖不达标",
        "内容": "小区冬季室内温度长期低于十六度，多次反映未解决，请求督促整改。",
        "姓名": "王五",
        "身份证号": make_id_number(),
        "电话": "13812345678",
        "地址": "城关镇幸福路9号",
        "问题类别": leaf_category().code,
        "问题属地": world.a.township.code,
        "状态": "已终结",
        "办结日期": "2009-04-20",
        "答复意见": "经调查，供热单位已完成管网改造，室温已达标。",
    }
    base.update(values)
    return base


def csv_bytes(rows: list[dict[str, Any]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    for r in rows:
        writer.writerow({h: r.get(h, "") for h in HEADERS})
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for r in rows:
        sheet.append([r.get(h, "") for h in HEADERS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
