"""Models of reception days (领导接待日, 《信访工作条例》第十八条).

* ``ReceptionSchedule``: an organisation's rule over the legal calendar ("每月的第一个工作日" …), its
  time window, place, slots and the rota of leaders (``ReceptionRotaEntry``, 轮班接待);
* ``ReceptionSession``: one materialised reception day (glossary name), with its leader and slots
  (``ReceptionSlot``: capacity and the number booked, kept by a conditional UPDATE);
* ``ReceptionBooking``: a citizen's booking (预约) from the portal, personal data encrypted with
  blind indexes and masks, the booking code only as a keyed hash; once received, the petition
  registered from the visit and the leader who received it;
* ``OutreachVisit``: 下访, 约访, 带案下访, 巡回接访, 联合接访 with participants and petitions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField
from xinfang.organisations.models import Organisation


class RuleKind(models.TextChoices):
    FIRST_WORKING_DAY = "first_working_day", _("每月的第一个工作日")
    NTH_WORKING_DAY = "nth_working_day", _("每月的第N个工作日")
    WEEKDAY = "weekday", _("每周固定星期（遇非工作日不安排）")
    DATES = "dates", _("指定日期")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("星期一")
    TUESDAY = 1, _("星期二")
    WEDNESDAY = 2, _("星期三")
    THURSDAY = 3, _("星期四")
    FRIDAY = 4, _("星期五")
    SATURDAY = 5, _("星期六")
    SUNDAY = 6, _("星期日")


class ReceptionSchedule(models.Model):
    """An organisation's reception days as a rule over the legal calendar, with its rota of leaders.

    Sessions are materialised from it for the coming months (``services.materialise_sessions``), so
    the portal and the clerk read plain rows; the rule itself is kept to extend them."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("机构")
    )
    title = models.CharField(_("名称"), max_length=100)
    rule = models.CharField(_("接待日规则"), max_length=20, choices=RuleKind.choices)
    nth = models.PositiveSmallIntegerField(_("第几个工作日"), default=1)
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices, null=True, blank=True)
    # ISO dates ("2026-12-10"), for the rule "指定日期" only.
    dates = models.JSONField(_("指定日期"), default=list, blank=True)
    starts_on = models.DateField(_("起始日期"))
    ends_on = models.DateField(_("截止日期"), null=True, blank=True)
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    place = models.CharField(_("接待地点"), max_length=200)
    slot_minutes = models.PositiveSmallIntegerField(_("每时段分钟数"), default=60)
    capacity_per_slot = models.PositiveSmallIntegerField(_("每时段可预约人数"), default=3)
    published = models.BooleanField(_("在网上信访公开"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("接待日安排")
        verbose_name_plural = _("接待日安排")
        indexes = [models.Index(fields=["organisation", "is_active"], name="reception_sched_org_idx")]

    def __str__(self) -> str:
        return self.title


class ReceptionRotaEntry(models.Model):
    """One leader's turn in a schedule's rota (轮班接待): sessions go to the entries in ``position`` order."""

    schedule = models.ForeignKey(ReceptionSchedule, on_delete=models.CASCADE, related_name="rota")
    position = models.PositiveSmallIntegerField(default=0)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The title the public sees beside the name (县长, 副县长, 局长 …): not kept on staff accounts.
    title = models.CharField(_("职务"), max_length=50)

    class Meta:
        ordering = ["schedule", "position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="reception_rota_position_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.title}"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    CANCELLED = "cancelled", _("已取消")


class ReceptionSession(models.Model):
    """One reception day (领导接待日): date, time, place, the receiving leader and the slots."""

    schedule = models.ForeignKey(ReceptionSchedule, on_delete=models.CASCADE, related_name="sessions")
    # Copied from the schedule so the scope and the portal read one table with one index.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("接待日期"))
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    place = models.CharField(_("接待地点"), max_length=200)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("接待领导")
    )
    leader_title = models.CharField(_("职务"), max_length=50, blank=True)
    capacity = models.PositiveIntegerField(_("可预约人数"), default=0)
    status = models.CharField(
        _("状态"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    # The year's holidays were not yet published when the date was computed (calendar fallback).
    calendar_unconfirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("接待日")
        verbose_name_plural = _("接待日")
        ordering = ["date", "start_time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="reception_session_day_uniq")
        ]
        indexes = [
            models.Index(fields=["date", "organisation"], name="reception_session_date_idx"),
            models.Index(fields=["leader", "date"], name="reception_session_leader_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.place}"


class ReceptionSlot(models.Model):
    """A time slot of a session; ``booked`` only moves by ``UPDATE … WHERE booked < capacity``."""

    session = models.ForeignKey(ReceptionSession, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.TimeField(_("开始"))
    ends_at = models.TimeField(_("结束"))
    capacity = models.PositiveSmallIntegerField(_("可预约人数"))
    booked = models.PositiveSmallIntegerField(_("已预约"), default=0)

    class Meta:
        ordering = ["session", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "starts_at"], name="reception_slot_time_uniq"),
            models.CheckConstraint(
                condition=Q(booked__lte=models.F("capacity")), name="reception_slot_not_over"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%H:%M}-{self.ends_at:%H:%M}"

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    ARRIVED = "arrived", _("已到场")
    NO_SHOW = "no_show", _("未到场")
    CANCELLED = "cancelled", _("已取消")


# The states that hold a place: a cancelled booking gives it back, the others keep it (the day passed).
HOLDING = (BookingStatus.BOOKED, BookingStatus.ARRIVED, BookingStatus.NO_SHOW)


class ReceptionBooking(models.Model):
    """A citizen's booking of a slot (预约).  ID and phone encrypted, with blind indexes (one booking
    per person per session) and masks for lists; the booking code only as a keyed hash."""

    session = models.ForeignKey(ReceptionSession, on_delete=models.PROTECT, related_name="bookings")
    slot = models.ForeignKey(ReceptionSlot, on_delete=models.PROTECT, related_name="bookings")
    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedTextField(_("身份证号码"))
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_number_mask = models.CharField(_("身份证号码"), max_length=24, editable=False)
    phone = EncryptedTextField(_("手机号码"))
    phone_hash = models.CharField(max_length=64, editable=False)
    phone_mask = models.CharField(_("手机号码"), max_length=24, editable=False)
    description = models.TextField(_("反映事项简述"), max_length=500)
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    created_at = models.DateTimeField(_("预约时间"), default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    marked_at = models.DateTimeField(null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The visit received (登记为信访事项): the petition, and the leader who received the petitioner.
    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("接待领导"),
    )

    class Meta:
        verbose_name = _("接待预约")
        verbose_name_plural = _("接待预约")
        ordering = ["session", "slot__starts_at", "id"]
        constraints = [
            # One booking per person per session while it holds a place (cancel, then book again).
            models.UniqueConstraint(
                fields=["session", "id_number_hash"],
                condition=~Q(status="cancelled"),
                name="reception_booking_person_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["session", "status"], name="reception_booking_session_idx"),
            models.Index(fields=["status", "reminded_at"], name="reception_booking_remind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.session.date}"


class OutreachKind(models.TextChoices):
    DOWN = "down", _("下访")
    APPOINTMENT = "appointment", _("约访")
    WITH_CASE = "with_case", _("带案下访")
    CIRCUIT = "circuit", _("巡回接访")
    JOINT = "joint", _("联合接访")


class OutreachVisit(models.Model):
    """A visit down or an appointment (下访、约访 …): kind, date, place, leaders, participants
    (staff and in free text), the petitions concerned and notes."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("组织单位")
    )
    kind = models.CharField(_("类别"), max_length=12, choices=OutreachKind.choices)
    date = models.DateField(_("日期"))
    place = models.CharField(_("地点"), max_length=200)
    leaders = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("带队领导"))
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True, verbose_name=_("参加人员")
    )
    other_participants = models.CharField(_("其他参加人员"), max_length=300, blank=True)
    petitions = models.ManyToManyField(
        "petitions.Petition", related_name="+", blank=True, verbose_name=_("涉及信访事项")
    )
    notes = models.TextField(_("情况记录"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("下访约访")
        verbose_name_plural = _("下访约访")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["organisation", "date"], name="reception_outreach_org_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"
