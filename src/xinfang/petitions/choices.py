"""Static choices of a petition (GLOSSARY.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    LETTER = "letter", _("来信")
    VISIT = "visit", _("来访")
    PHONE = "phone", _("来电")
    ONLINE = "online", _("网上信访")
    MAILBOX = "mailbox", _("领导信箱")
    HOTLINE = "hotline", _("12345热线")
    VIDEO = "video", _("视频接访")
    REFERRAL = "referral", _("上级交办")


class Purpose(models.TextChoices):
    COMPLAINT = "complaint", _("投诉请求")
    REPORT = "report", _("检举控告")
    SUGGESTION = "suggestion", _("意见建议")
    REQUEST = "request", _("申诉求决")


class Status(models.TextChoices):
    """Where a petition stands in the procedure of the 2022 条例 (the transitions between these
    states are the table in ``workflow/transitions.py``)."""

    REGISTERED = "registered", _("已登记")  # the petition office must dispose of it (Art. 22)
    FORWARDED = "forwarded", _("已转送")  # the unit must accept or object (Art. 23 ¶3)
    ASSIGNED = "assigned", _("已交办")  # as forwarded, plus a completion report (Art. 22(3))
    RETURNED = "returned", _("已退回")  # the unit objected; the office agrees or overrules
    # the unit objected again after the office overruled it: their common superior decides (Art. 24)
    DISPUTED = "disputed", _("管辖争议待决定")
    ACCEPTED = "accepted", _("已受理")  # handling, 60 days (Art. 34)
    DECLINED = "declined", _("不予受理")
    REDIRECTED = "redirected", _("已告知其他途径")
    REPLIED = "replied", _("已答复")  # decision letter issued (Art. 32); review window runs (Art. 35)
    UNDER_REVIEW = "under_review", _("复查中")  # the level above reviews, 30 days (Art. 35)
    REVIEWED = "reviewed", _("已复查")  # review opinion issued; recheck window runs (Art. 36)
    UNDER_RECHECK = "under_recheck", _("复核中")  # the level above the reviewer, 30 days + hearing (Art. 36)
    CONCLUDED = "concluded", _("已终结")  # recheck opinion, lapsed window or agreement: not accepted again
    WITHDRAWN = "withdrawn", _("已撤回")  # the petitioner withdrew it
    MERGED = "merged", _("已合并")  # a duplicate, merged into the petition it repeats


# States in which nothing is pending any more: no deadline runs and no action but reading is left.
FINAL_STATUSES = frozenset(
    {Status.DECLINED, Status.REDIRECTED, Status.CONCLUDED, Status.WITHDRAWN, Status.MERGED}
)

# States in which ``Petition.due_on`` is a deadline that **staff** must meet (disposal, acceptance,
# handling, a review or recheck opinion, a jurisdiction decision).  In the others it is the
# petitioner's window (REPLIED: evaluation and review; REVIEWED: recheck) and is shown as a plain
# date: no traffic light, never "overdue", no reminders (issue #8 §2).
STAFF_DEADLINE_STATUSES = frozenset(
    {
        Status.REGISTERED,
        Status.FORWARDED,
        Status.ASSIGNED,
        Status.RETURNED,
        Status.DISPUTED,
        Status.ACCEPTED,
        Status.UNDER_REVIEW,
        Status.UNDER_RECHECK,
    }
)


class Conclusion(models.TextChoices):
    """Why a matter was concluded (终结, Art. 36 ¶3; 浙江条例 Art. 25)."""

    RECHECKED = "rechecked", _("复核意见已送达")
    REVIEW_LAPSED = "review_lapsed", _("未在规定期限内请求复查")
    RECHECK_LAPSED = "recheck_lapsed", _("未在规定期限内请求复核")
    AGREEMENT = "agreement", _("达成调解或和解协议并已履行")


class InvolvementReason(models.TextChoices):
    """Why an organisation may see a petition (the scope rule of issue #2, point 3)."""

    OFFICE = "office", _("登记机构")
    UNIT = "unit", _("责任单位")
    SUPERVISOR = "supervisor", _("督办机构")
    REVIEW = "review", _("复查复核机关")
    SUPERIOR = "superior", _("管辖争议决定机关")  # the common superior deciding a dispute (Art. 24)


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("登记")
    REPEAT_LINKED = "repeat_linked", _("标记为重复信访")
    SUBJECT_NAMED = "subject_named", _("确认被检举控告对象")
    FORWARDED = "forwarded", _("转送")
    ASSIGNED = "assigned", _("交办")
    ACCEPTED = "accepted", _("受理")
    DECLINED = "declined", _("不予受理")
    REDIRECTED = "redirected", _("告知其他途径")
    RETURNED = "returned", _("退回")
    RETURN_OVERRULED = "return_overruled", _("退回未获同意")
    JURISDICTION_DISPUTED = "jurisdiction_disputed", _("提请共同上级机关决定管辖")
    JURISDICTION_DECIDED = "jurisdiction_decided", _("共同上级机关决定管辖")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_APPROVED = "extension_approved", _("批准延期")
    EXTENSION_REJECTED = "extension_rejected", _("不批准延期")
    REPLIED = "replied", _("答复")
    COMPLETION_APPROVED = "completion_approved", _("办结报告审核通过")
    COMPLETION_REJECTED = "completion_rejected", _("办结报告退回重办")
    EVALUATED = "evaluated", _("满意度评价")
    REVIEW_REQUESTED = "review_requested", _("请求复查")
    REVIEWED = "reviewed", _("复查意见")
    RECHECK_REQUESTED = "recheck_requested", _("请求复核")
    HEARING_STARTED = "hearing_started", _("听证开始")
    HEARING_ENDED = "hearing_ended", _("听证结束")
    RECHECKED = "rechecked", _("复核意见")
    CONCLUDED = "concluded", _("终结")
    AGREEMENT_RECORDED = "agreement_recorded", _("达成调解或和解协议")
    NOT_ACCEPTED_AGAIN = "not_accepted_again", _("不再受理")
    WITHDRAWN = "withdrawn", _("撤回")
    MERGED = "merged", _("合并")
    REPORTED_URGENT = "reported_urgent", _("重大紧急信访事项上报")
    RECUSED = "recused", _("回避")
    HANDLER_ASSIGNED = "handler_assigned", _("指定承办人")
    # Supervision (issue #8): registered by xinfang.supervision, shown on the internal timeline.
    SUPERVISED = "supervised", _("督办")
    SUPERVISION_ANSWERED = "supervision_answered", _("督办反馈")
    SUPERVISION_ACCEPTED = "supervision_accepted", _("督办反馈通过")
    SUPERVISION_RETURNED = "supervision_returned", _("督办反馈退回")
    SUPERVISION_ESCALATED = "supervision_escalated", _("督办升级")
    SUPERVISION_LIFTED = "supervision_lifted", _("解除督办")
    URGED = "urged", _("催办")
    ACCOUNTABILITY = "accountability", _("约谈、通报或工作建议")
    # Between installations (上级交办, issue #11 §4): the exchange app writes these.
    EXCHANGE_REFERRED = "exchange_referred", _("交办下级平台")
    EXCHANGE_REPORTED = "exchange_reported", _("收到下级办理情况报告")
    EXCHANGE_DECIDED = "exchange_decided", _("审核下级办理情况报告")


# 集体访: five people or more (domain.md §1.7; common practice).
COLLECTIVE_HEADCOUNT = 5
MAX_REPRESENTATIVES = 5
