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
    """Where a petition stands.  Issue #3 (the statutory workflow) adds the states after registration."""

    REGISTERED = "registered", _("已登记")


class InvolvementReason(models.TextChoices):
    """Why an organisation may see a petition (the scope rule of issue #2, point 3)."""

    OFFICE = "office", _("登记机构")
    UNIT = "unit", _("责任单位")
    SUPERVISOR = "supervisor", _("督办机构")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("登记")
    REPEAT_LINKED = "repeat_linked", _("标记为重复信访")


# 集体访: five people or more (domain.md §1.7; common practice).
COLLECTIVE_HEADCOUNT = 5
MAX_REPRESENTATIVES = 5
