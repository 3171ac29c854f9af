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
    ACCEPTED = "accepted", _("已受理")  # handling, 60 days (Art. 34)
    DECLINED = "declined", _("不予受理")
    REDIRECTED = "redirected", _("已告知其他途径")
    REPLIED = "replied", _("已答复")  # decision letter issued (Art. 32); review window runs (Art. 35)


class InvolvementReason(models.TextChoices):
    """Why an organisation may see a petition (the scope rule of issue #2, point 3)."""

    OFFICE = "office", _("登记机构")
    UNIT = "unit", _("责任单位")
    SUPERVISOR = "supervisor", _("督办机构")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("登记")
    REPEAT_LINKED = "repeat_linked", _("标记为重复信访")
    FORWARDED = "forwarded", _("转送")
    ASSIGNED = "assigned", _("交办")
    ACCEPTED = "accepted", _("受理")
    DECLINED = "declined", _("不予受理")
    REDIRECTED = "redirected", _("告知其他途径")
    RETURNED = "returned", _("退回")
    RETURN_OVERRULED = "return_overruled", _("退回未获同意")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_APPROVED = "extension_approved", _("批准延期")
    EXTENSION_REJECTED = "extension_rejected", _("不批准延期")
    REPLIED = "replied", _("答复")
    COMPLETION_APPROVED = "completion_approved", _("办结报告审核通过")
    COMPLETION_REJECTED = "completion_rejected", _("办结报告退回重办")


# 集体访: five people or more (domain.md §1.7; common practice).
COLLECTIVE_HEADCOUNT = 5
MAX_REPRESENTATIVES = 5
