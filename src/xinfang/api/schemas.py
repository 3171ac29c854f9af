"""Request and response schemas of API v1 (pydantic, via django-ninja).

Input schemas check only the *transport*: types, required keys, generous size caps and no unknown
keys.  The business rules (allowed channels, ID-number checksums, dates, headcounts …) are
checked by ``petitions.services.clean_draft`` and come back in the same error shape, so there is
one place for each rule.  Enumerations are still published in the OpenAPI document
(``json_schema_extra``) for client generators.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils.translation import gettext_lazy
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator, model_validator

from xinfang.petitions.choices import Channel, Purpose, Status
from xinfang.workflow.deadlines import days_left, is_overdue, is_staff_deadline, petition_light

# --- errors ----------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(description="稳定的错误代码，如 validation_error、not_found、throttled")
    message: str = Field(description="中文错误说明")
    fields: dict[str, list[str]] | None = Field(
        None, description="按字段列出的错误，键为字段路径，如 petitioners.0.id_number"
    )


class ErrorOut(Schema):
    """The body of every error response."""

    error: ErrorDetail


# --- authentication --------------------------------------------------------------------------------


# PostgreSQL's bigint and SQLite's INTEGER hold -2^63 … 2^63-1.  A larger id, count or offset made
# the database raise, a 500 (issue #7 point 26); every integer of every input schema is checked.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1


class BoundedIntegers(Schema):
    """Refuses integers the database cannot hold, in every field (and each branch of a union)."""

    @field_validator("*", mode="after")
    @classmethod
    def _within_database_range(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and not DB_INT_MIN <= value <= DB_INT_MAX:
            raise ValueError(str(gettext_lazy("数值超出范围。")))
        return value


class InputSchema(BoundedIntegers):
    """Refuses unknown keys: a misspelt optional field must not be dropped silently."""

    model_config = ConfigDict(extra="forbid")


class TokenIn(InputSchema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1024)


class TokenOut(Schema):
    token: str = Field(description="访问令牌，仅在此响应中出现一次")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: dt.datetime | None = Field(description="到期时间；为空表示不过期（系统账号）")


# --- petitions: input ------------------------------------------------------------------------------

_CATEGORY_HELP = '问题分类：整数为分类 id，字符串为分类代码（如 "0201"）'
_LOCALITY_HELP = '问题属地：整数为机构 id，字符串为行政区划代码（如 "330102"）'


class PetitionerIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, description="姓名")
    id_number: str = Field("", max_length=40, description="身份证号码（18位）")
    phone: str = Field("", max_length=40, description="联系电话")
    address: str = Field("", max_length=1000, description="住址")
    is_representative: bool = Field(False, description="集体访代表；第二位起总是代表")


class PublicPetitionIn(InputSchema):
    """What a citizen may fill in on the public portal."""

    purpose: str = Field(description="信访目的", json_schema_extra={"enum": list(Purpose.values)})
    title: str = Field(max_length=1000, description="标题")
    content: str = Field(max_length=50_000, description="信访内容（诉求、事实和理由）")
    category: int | str = Field(description=_CATEGORY_HELP)
    locality: int | str = Field(description=_LOCALITY_HELP)
    headcount: int = Field(1, description="人数；5人及以上为集体访")
    subject_name: str = Field("", max_length=1000, description="被反映人或单位")
    petitioners: list[PetitionerIn] = Field(max_length=50, description="信访人；集体访最多5名代表")


class PetitionIn(PublicPetitionIn):
    """A petition registered by an intake clerk or a system account (mirrors PetitionDraft)."""

    channel: str = Field(description="信访形式", json_schema_extra={"enum": list(Channel.values)})
    received_on: dt.date = Field(description="收到日期")
    subject_organisation: int | None = Field(None, description="被反映单位（被检举控告单位）的机构 id")
    subject_person: str = Field("", max_length=200, description="被检举控告人（加密保存）")
    no_subject_organisation: bool = Field(
        False,
        description=(
            "检举控告：登记员确认未指向具体单位。检举控告须填写 subject_organisation 或将此项设为 true，"
            "否则在执行 name_subject 之前不能转送、交办或受理"
        ),
    )
    repeat_of: str = Field("", max_length=40, description="重复信访所涉原件的信访编号")


# --- petitions: output -----------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    code: str
    name: str


class OrganisationOut(Schema):
    id: int
    name: str
    code: str


class PetitionerOut(Schema):
    """A petitioner as lists and details show them: masked, never decrypted."""

    name: str
    id_number_mask: str
    phone_mask: str
    is_representative: bool


class HandlerOut(Schema):
    """The named handler (承办人) of a petition inside the handling body."""

    id: int
    username: str
    name: str = Field(description="姓名（未登记姓名时为用户名）")

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class PetitionSummaryOut(Schema):
    number: str
    status: str = Field(json_schema_extra={"enum": list(Status.values)})
    status_label: str
    channel: str
    purpose: str
    title: str
    category: CategoryOut
    locality: OrganisationOut
    office: OrganisationOut
    received_on: dt.date
    registered_at: dt.datetime
    due_on: dt.date | None = Field(description="当前环节的期限（无期限时为空）")
    days_left: int | None = Field(description="距期限的天数，逾期为负数")
    deadline_light: Literal["green", "yellow", "red", "none"] = Field(
        description="时限提示：green 正常、yellow 剩余3天以内、red 已逾期、none 无期限或非工作人员期限"
        "（REPLIED/REVIEWED 时 due_on 是信访人请求评价、复查或复核的期限，不亮灯）"
    )
    deadline_kind: Literal["staff", "petitioner", "none"] = Field(
        description="due_on 的性质：staff 工作人员须遵守的办理时限；"
        "petitioner 信访人的评价/复查/复核期限；none 无期限"
    )
    is_overdue: bool = Field(description="工作人员须遵守的时限已过（信访人的期限届满不算超期）")
    handler: HandlerOut | None = Field(description="承办人；未指定时为空")
    handling_unit: OrganisationOut = Field(description="承办单位：当前转送/交办的责任单位，否则为登记机构")
    highlight: str | None = Field(
        None,
        description="按关键词 q 检索时：内容（或标题）中命中处的片段，已做 HTML 转义，命中的词以 <mark> "
        "标出；否则为空",
    )
    headcount: int
    is_collective: bool
    is_repeat: bool
    is_confidential: bool
    is_urgent: bool = Field(description="重大紧急信访事项（已上报）")
    conclusion: str = Field(
        description="终结理由：rechecked、review_lapsed、recheck_lapsed、agreement；未终结为空"
    )
    petitioners: list[PetitionerOut]

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_days_left(obj: Any) -> int | None:
        return None if obj.due_on is None else days_left(obj.due_on)

    @staticmethod
    def resolve_deadline_light(obj: Any) -> str:
        return petition_light(obj)

    @staticmethod
    def resolve_deadline_kind(obj: Any) -> str:
        if obj.due_on is None:
            return "none"
        return "staff" if is_staff_deadline(obj) else "petitioner"

    @staticmethod
    def resolve_is_overdue(obj: Any) -> bool:
        return is_overdue(obj)

    @staticmethod
    def resolve_highlight(obj: Any) -> str | None:
        return getattr(obj, "search_highlight", None) or None

    @staticmethod
    def resolve_handling_unit(obj: Any) -> Any:
        # Read from the open_assignments prefetch (lists and the detail load it): no query per row.
        assignments = getattr(obj, "open_assignments", None)
        if assignments is None:
            from xinfang.workflow.engine import handling_organisation

            return handling_organisation(obj)
        return assignments[0].unit if assignments else obj.office

    @staticmethod
    def resolve_petitioners(obj: Any) -> list[Any]:
        return list(obj.petitioners.all())  # prefetched by the caller


class PetitionPageOut(Schema):
    count: int = Field(
        description="符合条件的总数；超过10000时为10000（按 q 全文检索时超过1000为1000），见 count_exact"
    )
    count_exact: bool = Field(description="count 是否为精确总数（为 false 时请缩小筛选范围）")
    limit: int
    offset: int
    results: list[PetitionSummaryOut]


class AttachmentOut(Schema):
    id: int
    name: str = Field(alias="original_name")
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class EventOut(Schema):
    """A timeline entry for staff: public and internal alike."""

    at: dt.datetime
    kind: str
    kind_label: str
    is_public: bool
    public_note: str
    comment: str
    actor: str | None
    organisation: str | None

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return str(obj.actor) if obj.actor_id else None

    @staticmethod
    def resolve_organisation(obj: Any) -> str | None:
        return obj.organisation.name if obj.organisation_id else None


class PetitionOut(PetitionSummaryOut):
    content: str
    subject_name: str
    subject_organisation: OrganisationOut | None
    subject_confirmed: bool = Field(
        description="检举控告的被检举控告对象已由登记员确认（name_subject）；未确认的检举控告不能转送、交办或受理"
    )
    repeat_of: str | None = Field(description="原件的信访编号")
    registered_by: str | None
    version: int
    attachments: list[AttachmentOut]
    events: list[EventOut]

    @staticmethod
    def resolve_repeat_of(obj: Any) -> str | None:
        return obj.repeat_of.number if obj.repeat_of_id else None

    @staticmethod
    def resolve_registered_by(obj: Any) -> str | None:
        return str(obj.registered_by) if obj.registered_by_id else None

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        return list(obj.events.all())


class PossibleRepeatOut(Schema):
    number: str
    title: str
    registered_at: dt.datetime


class PetitionCreatedOut(PetitionOut):
    query_code: str = Field(description="查询码：只在本响应中出现，请转告信访人，系统不保存明文")
    possible_repeats: list[PossibleRepeatOut] = Field(
        description="同一信访人此前的信访件（在调用者权限范围内），供判断是否重复信访"
    )


# --- petitions: list filters ---------------------------------------------------------------------

Ordering = Literal[
    "relevance", "due_on", "-due_on", "received_on", "-received_on", "registered_at", "-registered_at"
]


class PetitionFilters(BoundedIntegers):
    """The filters of the staff work queue."""

    status: Literal[tuple(Status.values)] | None = Field(None, description="状态")  # type: ignore[valid-type]
    channel: Literal[tuple(Channel.values)] | None = Field(None, description="信访形式")  # type: ignore[valid-type]
    purpose: Literal[tuple(Purpose.values)] | None = Field(None, description="信访目的")  # type: ignore[valid-type]
    # Two parameters, not one "id or code" as in the body: in a query string every value is text,
    # and category codes are digits too.
    category: int | None = Field(None, le=DB_INT_MAX, description="问题分类 id；一级分类包括其下各项")
    category_code: str | None = Field(None, max_length=20, description="问题分类代码；一级分类包括其下各项")
    received_from: dt.date | None = Field(None, description="收到日期起（含）")
    received_to: dt.date | None = Field(None, description="收到日期止（含）")
    is_repeat: bool | None = Field(None, description="重复信访")
    is_collective: bool | None = Field(None, description="集体访")
    is_urgent: bool | None = Field(None, description="重大紧急")
    open: bool | None = Field(
        None, description="true：只列未办结的（不含已不予受理、已终结、已撤回等终态）；默认不限"
    )
    overdue: bool | None = Field(
        None, description="true：只列工作人员办理时限已过的（信访人评价/复查/复核期限届满的不算）"
    )
    mine: bool | None = Field(None, description="true：只列由我承办的（承办人为调用者）")
    handler: int | None = Field(None, ge=1, le=DB_INT_MAX, description="承办人的用户 id")
    q: str | None = Field(
        None,
        max_length=100,
        description="信访编号（精确查找），或关键词：在标题、内容、被反映对象和处理意见书中全文检索（中文分词），"
        "多个词须同时出现，双引号内为短语；只有单字或常用词时返回 422「请输入更具体的关键词」",
    )
    petitioner_name: str | None = Field(
        None, max_length=50, description="信访人姓名（精确匹配），查询将记入审计日志"
    )
    id_tail: str | None = Field(
        None,
        min_length=4,
        max_length=4,
        description="信访人身份证号后四位（需有查看个人信息权限），查询将记入审计日志",
    )
    ordering: Ordering | None = Field(
        None, description="排序；默认按办理时限，有关键词 q 时按相关度（relevance）"
    )
    limit: int = Field(50, ge=1, le=200, description="每页条数（最多200）")
    offset: int = Field(0, ge=0, le=DB_INT_MAX, description="跳过的条数")

    @model_validator(mode="after")
    def _mine_or_handler(self) -> PetitionFilters:
        # Two ways of naming the handler: asking for both is a mistake, not an empty list.
        if self.mine and self.handler is not None:
            raise ValueError(str(gettext_lazy("mine 与 handler 不能同时使用。")))
        return self


# --- public portal ---------------------------------------------------------------------------------


class PublicSubmissionIn(PublicPetitionIn):
    """A citizen's submission through the API: the petition, plus the proof that the portal's form
    asks too — the answer to a CAPTCHA from ``POST /portal/captcha`` (issue #7 point 28).  A
    registered partner platform (a 12345 system) sends its system account's bearer token instead."""

    captcha_key: str = Field("", max_length=40, description="验证码 key（POST /portal/captcha 返回）")
    captcha: str = Field("", max_length=32, description="验证码答案；凭合作平台系统账号令牌提交时可不填")


class CaptchaOut(Schema):
    key: str = Field(description="验证码 key，提交时作为 captcha_key 传回；只能作答一次")
    image: str = Field(description="验证码图片（data:image/png;base64,…）")
    image_url: str = Field(description="同一图片的地址")
    expires_in: int = Field(description="有效秒数")


class PublicSubmittedOut(Schema):
    number: str = Field(description="信访编号")
    query_code: str = Field(description="查询码：请妥善保存，凭编号和查询码查询办理进展")


class PublicEventOut(Schema):
    at: dt.datetime
    kind: str
    kind_label: str
    note: str


class PublicTrackingOut(Schema):
    number: str
    status: str
    status_label: str
    events: list[PublicEventOut]


# --- workflow actions ------------------------------------------------------------------------------

_UNIT_HELP = "责任单位：整数为机构 id，字符串为机构代码或行政区划代码（须唯一对应一个机构）"


class ActionIn(InputSchema):
    """The body of ``POST /petitions/{number}/actions/{action}``: one schema for every action.

    Which fields an action takes, and which it requires, is checked per action by the endpoint
    (see docs/api.md); a field the action does not take is refused, not dropped."""

    unit: int | str | None = Field(
        None,
        description=_UNIT_HELP
        + "；forward、assign 必填；decide_jurisdiction 必填，为共同上级机关决定的办理单位",
    )
    report_due_on: dt.date | None = Field(None, description="限办日期（仅 assign），须晚于今天")
    comment: str | None = Field(
        None,
        max_length=5000,
        description=(
            "内部意见（forward、assign、accept、unit_accept、approve_extension、approve_completion、"
            "start_hearing、end_hearing、conclude、refuse_repeat、merge；overrule_return 必填，为其理由）"
        ),
    )
    reasons: str | None = Field(
        None,
        max_length=5000,
        description=(
            "理由（decline 必填，告知信访人；return 必填，详细退回理由；request_extension 必填，延期理由，"
            "批准后告知信访人；reject_extension、reject_completion 必填；"
            "request_review、request_recheck 必填，为信访人的请求及理由；withdraw 必填，撤回的情况说明；"
            "report_urgent 必填，重大紧急的情况；dispute_jurisdiction 必填，再次异议的详细理由；"
            "decide_jurisdiction 必填，决定理由；"
            "recuse 必填，回避理由；evaluate 中任一评价为不满意时必填）"
        ),
    )
    channel: str | None = Field(None, max_length=2000, description="应当通过的法定途径（redirect 必填）")
    parties: str | None = Field(None, max_length=500, description="协议各方（record_agreement 必填）")
    terms: str | None = Field(None, max_length=5000, description="协议内容（record_agreement 必填）")
    days: int | None = Field(
        None, ge=1, le=366, description="申请延长的天数（request_extension 必填），不得超过本地规则的延期上限"
    )
    outcome: Literal["support", "explain", "not_supported", "uphold", "change", "rehandle"] | None = Field(
        None,
        description=(
            "处理结果（reply 必填）：support 支持、explain 解释说明、not_supported 不予支持；"
            "复查复核结论（review、recheck 必填）：uphold 维持、change 变更、"
            "rehandle 责令重新办理（仅 review）"
        ),
    )
    facts: str | None = Field(None, max_length=20000, description="查明的事实（reply、review、recheck 必填）")
    basis: str | None = Field(
        None, max_length=5000, description="法律、政策依据（reply、review、recheck 必填）"
    )
    opinion: str | None = Field(None, max_length=20000, description="处理意见（reply、review、recheck 必填）")
    office_rating: Literal["satisfied", "basically_satisfied", "dissatisfied"] | None = Field(
        None,
        description=(
            "对信访部门的评价（evaluate 必填）：satisfied 满意、basically_satisfied 基本满意、"
            "dissatisfied 不满意"
        ),
    )
    unit_rating: Literal["satisfied", "basically_satisfied", "dissatisfied"] | None = Field(
        None, description="对办理单位的评价（evaluate 必填）；任一项为不满意的，reasons 必填"
    )
    conclusion: Literal["review_lapsed", "recheck_lapsed", "agreement"] | None = Field(
        None,
        description=(
            "终结理由（conclude 必填）：review_lapsed 逾期未请求复查、recheck_lapsed 逾期未请求复核、"
            "agreement 达成协议并履行"
        ),
    )
    into: str | None = Field(None, max_length=40, description="合并到的信访事项编号（merge 必填）")
    staff: str | None = Field(
        None,
        max_length=150,
        description="工作人员的用户名：recuse 的回避人员（留空为本人）；assign_handler 的承办人（必填）",
    )
    # name_subject (issue #7 point 1): exactly one of the first two
    subject_organisation: int | str | None = Field(
        None,
        description=(
            "被检举控告单位（name_subject）：整数为机构 id，字符串为机构代码；"
            "与 no_subject_organisation 二选一"
        ),
    )
    no_subject_organisation: bool | None = Field(
        None, description="经核实检举控告未指向具体单位（name_subject）；与 subject_organisation 二选一"
    )
    subject_name: str | None = Field(
        None, max_length=200, description="被反映人/单位的原文（name_subject，可不填）"
    )
    subject_person: str | None = Field(
        None, max_length=200, description="被检举控告人（name_subject，可不填；加密保存，不写入办理记录）"
    )


# --- public portal: the petitioner's view and own actions (issue #3) ---------------------------------

_RATING_HELP = "satisfied 满意、basically_satisfied 基本满意、dissatisfied 不满意"


class PublicStepOut(Schema):
    key: str = Field(
        description=(
            "registered、disposal、handling、reply、evaluation、review、recheck、concluded；"
            "提前结束的（撤回、不予受理等）最后一步为其状态"
        )
    )
    label: str = Field(description="环节名称，如 登记、交办、答复")
    state: Literal["done", "current", "upcoming", "pending", "lapsed"] = Field(
        description="done 已完成、current 当前、upcoming 未开始；评价另有 pending 待评价、lapsed 超期未评价"
    )
    note: str


class PublicLetterOut(Schema):
    organisation: str = Field(description="答复单位")
    issued_on: dt.date
    outcome: str = Field(description="support 支持、explain 解释说明、not_supported 不予支持")
    outcome_label: str
    facts: str = Field(description="查明事实")
    basis: str = Field(description="法律政策依据")
    opinion: str = Field(description="处理意见")
    review_notice: str = Field(description="复查权利告知")


class PublicAppealOut(Schema):
    kind: Literal["review", "recheck"]
    kind_label: str
    body: str = Field(description="复查或复核机关")
    received_on: dt.date
    due_on: dt.date | None = Field(description="尚未作出意见时的期限（听证时间不计入）")
    decided_on: dt.date | None
    outcome: str = Field(description="uphold 维持、change 变更、rehandle 责令重新办理；未作出意见时为空")
    outcome_label: str
    facts: str = Field(description="查明事实（作出意见后）")
    basis: str = Field(description="法律政策依据（作出意见后）")
    opinion: str


class PublicWindowsOut(Schema):
    evaluation_status: Literal["pending", "evaluated", "lapsed"] | None = Field(
        description="满意度评价：pending 待评价、evaluated 已评价、lapsed 超期未评价；答复前为空"
    )
    evaluation_due_on: dt.date | None = Field(description="满意度评价的最后一日")
    review_request_due_on: dt.date | None = Field(description="请求复查的最后一日（仅已答复时）")
    recheck_request_due_on: dt.date | None = Field(description="请求复核的最后一日（仅已复查时）")


class PublicPetitionOut(PublicTrackingOut):
    """What the holder of the query code sees: status and public timeline, plus the steps, the
    decision letters, the review and recheck opinions, the windows and the actions allowed now."""

    steps: list[PublicStepOut]
    letters: list[PublicLetterOut]
    appeals: list[PublicAppealOut]
    windows: PublicWindowsOut
    allowed_actions: list[str] = Field(
        description="信访人现在可以进行的操作：evaluate、request_review、request_recheck、withdraw"
    )
    merged_into: str = Field(
        "",
        description=(
            "已合并的信访事项：合并到的信访事项编号；此时状态、环节、答复和复查复核意见均为该事项的，"
            "时间线在本事项的记录之后接续该事项的公开记录"
        ),
    )
    supervised: bool = Field(
        False, description="上级机关已督办（办理机关选择向信访人公开时为 true；不含督办内容）"
    )


class PortalTrackIn(InputSchema):
    """The body of ``POST /portal/petitions/{number}/track``: the query code, kept out of the URL."""

    code: str = Field(max_length=40, description="查询码")


class PortalActionIn(InputSchema):
    """The body of ``POST /portal/petitions/{number}/actions/{action}``: the query code, and the
    fields of the action (a field the action does not take is refused)."""

    code: str = Field(max_length=40, description="查询码")
    office_rating: Literal["satisfied", "basically_satisfied", "dissatisfied"] | None = Field(
        None, description="对信访部门的评价（evaluate 必填）：" + _RATING_HELP
    )
    unit_rating: Literal["satisfied", "basically_satisfied", "dissatisfied"] | None = Field(
        None, description="对办理单位的评价（evaluate 必填）：" + _RATING_HELP
    )
    reasons: str | None = Field(
        None,
        max_length=5000,
        description=(
            "理由：evaluate 中任一项为不满意时必填；request_review、request_recheck 必填（请求及理由）；"
            "withdraw 可不填"
        ),
    )


class StaffOut(Schema):
    """A staff member named in a record (who acted, who leads, who handles): id and name only."""

    id: int
    name: str
