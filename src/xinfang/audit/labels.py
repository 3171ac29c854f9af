"""Readable Chinese for the audit page: what each action code, detail field and coded value means
(issue #7, point 23).

Codes written by the lower floors are listed here.  Apps above (``petitions``, ``workflow``)
register their own in ``AppConfig.ready`` with :func:`register` — the procedure's actions
(``petition.<transition>``) take the transition table's labels, so a new transition is readable
the day it is added — because the audit app may not import them (architecture.md: imports run
downward only).  ``tests/audit/test_labels.py`` checks that every action code in the code base has
a label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import GrantKind, GrantStatus, Level, OrganisationKind, RoleCode

_ACTIONS: dict[str, Any] = {
    # logging in and accounts (三员分立: the security administrator's work)
    "login": _("登录"),
    "login.failed": _("登录失败"),
    "login.2fa": _("双因素登录"),
    "login.2fa_failed": _("双因素验证失败"),
    "2fa.enrol": _("绑定双因素认证"),
    "2fa.reset": _("重置双因素认证"),
    "account.locked": _("账号被锁定"),
    "account.unlock": _("解锁账号"),
    "password.change": _("修改密码"),
    "password.reset": _("重置密码"),
    "user.create": _("新建账号"),
    "user.roles": _("设置角色"),
    "user.active": _("启用或停用账号"),
    "user.mobile": _("设置或删除手机号码"),
    "user.email": _("设置或删除电子邮箱"),
    "grant.request": _("提交授权申请"),
    "grant.approve": _("批准授权申请"),
    "grant.reject": _("驳回授权申请"),
    "grant.withdraw": _("撤回授权申请"),
    "grant.expire": _("授权申请过期"),
    "grant.cancel": _("授权申请作废"),
    "api.token.issue": _("签发接口令牌"),
    "api.token.revoke": _("吊销接口令牌"),
    "api.token.refused": _("拒绝签发接口令牌"),
    # configuration (the system administrator's work)
    "organisation.create": _("新建机构"),
    "organisation.change": _("修改机构"),
    "category.create": _("新建问题类别"),
    "category.change": _("修改问题类别"),
    "workflow.calendar.create": _("新增节假日调整"),
    "workflow.calendar.change": _("修改节假日调整"),
    "workflow.calendar.delete": _("删除节假日调整"),
    "workflow.calendar.year": _("录入全年节假日"),
    "workflow.profile.create": _("新建期限规则方案"),
    "workflow.profile.change": _("修改期限规则方案"),
    "workflow.rule.create": _("新增期限规则"),
    "workflow.rule.change": _("修改期限规则"),
    "workflow.rule.delete": _("删除期限规则"),
    "workflow.routing_rule.create": _("新增分办规则"),
    "workflow.routing_rule.change": _("修改分办规则"),
    "workflow.routing_rule.delete": _("删除分办规则"),
    "demo.seed": _("生成演示数据"),
    # petitions and personal data (PIPL Art. 51)
    "petition.register": _("登记信访事项"),
    "petition.view": _("查看信访事项"),
    "petition.reveal_personal_data": _("查看完整个人信息"),
    "petition.reveal_denied": _("查看个人信息被拒绝"),
    "petition.attachments_add": _("上传附件"),
    "petition.attachment_download": _("下载附件"),
    "petition.query_code_reissued": _("重新发放查询码"),
    "petition.receipt_print": _("打印登记回执"),
    # the audit administrator's own reading of the log
    "audit.search": _("查询审计日志"),
    "audit.export": _("导出审计日志"),
    "audit.partition_dropped": _("按保存期限删除一个月的审计日志"),
    "partitions.dropped": _("按保存期限删除一个月的数据"),
}

_FIELDS: dict[str, Any] = {
    "action": _("操作"),
    "actor": _("操作人"),
    "after": _("修改后"),
    "area": _("辖区"),
    "attachment": _("附件"),
    "before": _("修改前"),
    "body": _("机构"),
    "bootstrap": _("系统初始化"),
    "category": _("问题类别"),
    "channel": _("渠道"),
    "comment": _("意见"),
    "conclusion": _("终结结论"),
    "date": _("日期"),
    "date_from": _("起始日期"),
    "date_to": _("截止日期"),
    "days": _("天数"),
    "devices": _("设备数"),
    "disputed_unit": _("有争议的单位"),
    "due_on": _("办理期限"),
    "entered": _("录入条数"),
    "expires_at": _("到期时间"),
    "export": _("导出"),
    "factor": _("认证方式"),
    "feedback": _("督办反馈"),
    "failures": _("失败次数"),
    "files": _("文件数"),
    "filters": _("查询条件"),
    "from": _("原状态"),
    "grant_request": _("授权申请"),
    "handler": _("承办人账号"),
    "handler_name": _("承办人"),
    "identity_checked": _("已核实身份"),
    "into": _("并入事项"),
    "is_active": _("启用"),
    "is_working_day": _("是否工作日"),
    "kind": _("类型"),
    "leader": _("挂牌领导"),
    "length": _("长度"),
    "locked_until": _("锁定至"),
    "method": _("方式"),
    "name": _("名称"),
    "notice": _("督办通知"),
    "number": _("信访编号"),
    "office_rating": _("对信访部门的评价"),
    "organisation": _("机构"),
    "object": _("对象"),
    "office": _("信访部门"),
    "outcome": _("处理结果"),
    "page": _("页码"),
    "parent": _("上级机构"),
    "person_named": _("列明被反映人"),
    "payload": _("内容"),
    "petitioners": _("信访人数"),
    "petitions": _("信访事项数"),
    "portal": _("网上信访"),
    "prefix": _("令牌前缀"),
    "profile": _("规则方案"),
    "province": _("省份"),
    "published": _("向信访人公开"),
    "reason": _("理由"),
    "reasons": _("理由"),
    "recovery_codes": _("恢复码"),
    "repeat_of": _("重复信访的原事项"),
    "report_due_on": _("报告期限"),
    "reported_to": _("报告对象"),
    "requested_by": _("申请人"),
    "respond_by": _("反馈期限"),
    "roles": _("角色"),
    "rows": _("条数"),
    "seed": _("随机种子"),
    "source": _("来源"),
    "staff": _("工作人员"),
    "started_on": _("开始日期"),
    "status": _("状态"),
    "step": _("环节"),
    "subject_organisation": _("被反映单位"),
    "target": _("对象"),
    "to": _("新状态"),
    "unit": _("责任单位"),
    "unit_rating": _("对办理单位的评价"),
    "user": _("账号"),
    "username": _("账号"),
    "via": _("途径"),
    "with_code": _("含查询码"),
    "year": _("年度"),
}

_VALUES: dict[str, dict[str, Any]] = {
    "roles": dict(RoleCode.choices),
    "kind": {**dict(OrganisationKind.choices), **dict(GrantKind.choices)},
    "level": dict(Level.choices),
    "status": dict(GrantStatus.choices),
    "via": {"command": _("命令行"), "api": _("接口"), "web": _("网页"), "portal": _("网上信访")},
    # who recorded an evaluation: the petitioner on the portal, or the office after a phone call
    "source": {"portal": _("信访人网上评价"), "follow_up": _("回访录入")},
}

# Details that name an organisation by id: the page shows its name (one query per page).
ORGANISATION_FIELDS = frozenset(
    {"unit", "parent", "disputed_unit", "reported_to", "body", "area", "organisation", "subject_organisation"}
)


def register(
    *, actions: Mapping[str, Any] | None = None, values: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Add labels from an app above this one (its ``AppConfig.ready``)."""
    _ACTIONS.update(actions or {})
    for field, labels in (values or {}).items():
        _VALUES.setdefault(field, {}).update(labels)


def action_codes() -> Iterable[str]:
    """Every action code with a label (the filter's choices)."""
    return _ACTIONS.keys()


def action_label(code: str) -> str:
    """The Chinese for an action code; the code itself if nobody gave it a label."""
    label = _ACTIONS.get(code)
    return str(label) if label is not None else code


def field_label(name: str) -> str:
    label = _FIELDS.get(name)
    return str(label) if label is not None else name


def has_field_label(name: str) -> bool:
    return name in _FIELDS


def value_text(field: str, value: Any, organisations: Mapping[int, str] | None = None) -> str:
    """A detail's value as a person reads it: labels for codes, 是/否, lists joined, dicts spelled out."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list):
        return "、".join(value_text(field, v, organisations) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(f"{field_label(k)}：{value_text(k, v, organisations)}" for k, v in value.items())
    if field in ORGANISATION_FIELDS and isinstance(value, int) and organisations and value in organisations:
        return organisations[value]
    label = _VALUES.get(field, {}).get(str(value))
    return str(label) if label is not None else str(value)


def details(data: Mapping[str, Any], organisations: Mapping[int, str] | None = None) -> list[tuple[str, str]]:
    """The detail fields of an event as (label, text) pairs, in the order they were written."""
    return [(field_label(k), value_text(k, v, organisations)) for k, v in data.items()]


def organisation_ids(data: Mapping[str, Any]) -> set[int]:
    """The organisation ids an event's details name (to look their names up in one query)."""
    found: set[int] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            found |= organisation_ids(value)
        elif key in ORGANISATION_FIELDS and isinstance(value, int) and not isinstance(value, bool):
            found.add(value)
    return found
