"""The kinds of document (文书) the procedure issues, their states and the ways of service (送达)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    """Every written document the procedure requires (domain.md §5; 《信访工作条例》).  The code is
    the template's file name (``default_templates/<code>.docx``) and the key of ``kinds.KINDS``."""

    RECEIPT = "receipt", _("登记回执")  # a visit or letter registered: number and query code
    ACCEPTANCE = "acceptance", _("受理告知书")  # Art. 23
    NON_ACCEPTANCE = "non_acceptance", _("不予受理告知书")  # Art. 23, with reasons and the channel
    REDIRECT = "redirect", _("告知书")  # Art. 22(2)/25: redirected to the competent channel
    FORWARDING = "forwarding", _("转送单")  # Art. 22(1): 转送
    ASSIGNMENT = "assignment", _("交办单")  # Art. 22(3): 交办, deadline and completion report
    EXTENSION = "extension", _("延期告知书")  # Art. 34
    DECISION_LETTER = "decision_letter", _("处理意见书")  # Art. 32
    REVIEW_OPINION = "review_opinion", _("复查意见书")  # Art. 35
    RECHECK_OPINION = "recheck_opinion", _("复核意见书")  # Art. 36
    HEARING = "hearing", _("听证通知书")  # Art. 36
    SUPERVISION = "supervision", _("督办函")  # Arts. 39-40
    CONCLUSION = "conclusion", _("终结告知书")  # Art. 36 ¶3
    AGREEMENT = "agreement", _("调解/和解协议书")  # Art. 33


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已审批")
    ISSUED = "issued", _("已印发")


class ServiceMethod(models.TextChoices):
    """送达方式 (domain.md §5, "送达 record")."""

    IN_PERSON = "in_person", _("直接送达")  # signed 送达回证
    POST = "post", _("邮寄送达")  # tracking number, date received
    ELECTRONIC = "electronic", _("电子送达")  # portal download confirmed, SMS
    ANNOUNCEMENT = "announcement", _("公告送达")  # address unknown


class Addressee(models.TextChoices):
    """Whom a document is addressed to: the petitioner (served, portal download) or a unit."""

    PETITIONER = "petitioner", _("信访人")
    UNIT = "unit", _("单位")
