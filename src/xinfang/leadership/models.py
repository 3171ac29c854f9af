"""Models of leadership (《信访工作条例》第十八条): case contracting (包案, ``LeaderContract`` with its
milestones and progress entries, and the ``ContractingPolicy`` of an organisation), instructions (阅批,
``Instruction`` with its history ``InstructionEntry``) and the duty rota (值班: ``DutyShift``,
``DutyLogEntry``).

No record here copies a petitioner's personal data: a contract or an instruction points at the
petition (whose personal data stay encrypted and masked there), so the scope of the petition is
the scope of the record.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation


class ContractStatus(models.TextChoices):
    OPEN = "open", _("包案中")
    CLOSED = "closed", _("已办结")


class LeaderContract(models.Model):
    """One case contracted to a leader (包案): "定领导、定措施、定时间、定责任".

    The subject is a petition *or* a dispute (exactly one, a check constraint); at most one open
    contract per subject (partial unique constraints).  The team is the leader, optionally a
    responsible official (责任人) and a handler (承办人)."""

    number = models.CharField(_("包案编号"), max_length=40, unique=True)
    petition = models.ForeignKey(
        "petitions.Petition",
        verbose_name=_("信访事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leader_contracts",
    )
    dispute = models.ForeignKey(
        "screening.Dispute",
        verbose_name=_("矛盾纠纷"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leader_contracts",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("包案领导"), on_delete=models.PROTECT, related_name="+"
    )
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    measures = models.TextField(_("化解措施"))
    due_on = models.DateField(_("办结期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ContractStatus.choices, default=ContractStatus.OPEN
    )
    result = models.TextField(_("办结情况"), blank=True)
    created_at = models.DateTimeField(_("包案时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("领导包案")
        verbose_name_plural = _("领导包案")
        ordering = ["due_on", "id"]
        indexes = [
            # The ledger (open work first, by deadline) and "我包案的" on the leader's workbench.
            models.Index(fields=["status", "due_on"], name="contract_status_due_idx"),
            models.Index(fields=["leader", "status", "due_on"], name="contract_leader_idx"),
            models.Index(fields=["official", "status"], name="contract_official_idx"),
            models.Index(fields=["handler", "status"], name="contract_handler_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(petition__isnull=False) & Q(dispute__isnull=True))
                | (Q(petition__isnull=True) & Q(dispute__isnull=False)),
                name="contract_one_subject",
                violation_error_message=_("包案对象须为一件信访事项或一件矛盾纠纷，二者选一。"),
            ),
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(status="open") & Q(petition__isnull=False),
                name="contract_one_open_per_petition",
                violation_error_message=_("该信访事项已有包案领导，请先办结原包案。"),
            ),
            models.UniqueConstraint(
                fields=["dispute"],
                condition=Q(status="open") & Q(dispute__isnull=False),
                name="contract_one_open_per_dispute",
                violation_error_message=_("该矛盾纠纷已有包案领导，请先办结原包案。"),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def subject(self) -> models.Model:
        return self.petition if self.petition_id else self.dispute  # type: ignore[return-value]

    @property
    def subject_number(self) -> str:
        return self.subject.number  # type: ignore[attr-defined]

    @property
    def subject_title(self) -> str:
        return self.subject.title  # type: ignore[attr-defined]

    def is_late(self, today: dt.date | None = None) -> bool:
        """Open past its deadline, or with a milestone past due and not done.  Lists annotate
        ``late_milestone`` (selectors.annotate_lateness) so this reads no row per contract."""
        today = today or timezone.localdate()
        if self.status != ContractStatus.OPEN:
            return False
        if self.due_on < today:
            return True
        late = getattr(self, "late_milestone", None)
        if late is None:
            late = self.milestones.filter(done_on__isnull=True, due_on__lt=today).exists()
        return bool(late)


class ContractMilestone(models.Model):
    """A step of the plan with its own due date (e.g. "走访当事人", "召开协调会")."""

    contract = models.ForeignKey(LeaderContract, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=200)
    due_on = models.DateField(_("计划完成日期"))
    done_on = models.DateField(_("实际完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("包案节点")
        verbose_name_plural = _("包案节点")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["contract", "done_on", "due_on"], name="milestone_contract_idx")]

    def __str__(self) -> str:
        return self.title


class ContractProgress(models.Model):
    """One progress entry of a contract: what was done on which day, by whom."""

    contract = models.ForeignKey(LeaderContract, on_delete=models.CASCADE, related_name="progress")
    on = models.DateField(_("日期"))
    text = models.TextField(_("进展情况"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("包案进展")
        verbose_name_plural = _("包案进展")
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["contract", "on"], name="progress_contract_idx")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.on}"


class ContractingPolicy(models.Model):
    """Which cases an organisation's area must have contracted to a leader.  The policy of the
    nearest organisation up the tree applies (a city's policy covers its counties unless a county
    has its own)."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("机构"), on_delete=models.CASCADE, related_name="contracting_policy"
    )
    require_for_listed = models.BooleanField(_("挂牌督办事项须领导包案"), default=False)
    require_for_backlog = models.BooleanField(_("信访积案须领导包案"), default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("包案要求")
        verbose_name_plural = _("包案要求")

    def __str__(self) -> str:
        return str(self.organisation)


class InstructionStatus(models.TextChoices):
    OPEN = "open", _("待办理")
    ANSWERED = "answered", _("已回复待阅")
    CLOSED = "closed", _("已阅办结")


class Instruction(models.Model):
    """A leader's instruction on a petition (阅批, e.g. "请人社局于12月10日前办理并报结果"): a
    tracked task for the named unit, whose answer goes back to the leader."""

    number = models.CharField(_("阅批编号"), max_length=40, unique=True)
    petition = models.ForeignKey(
        "petitions.Petition",
        verbose_name=_("信访事项"),
        on_delete=models.PROTECT,
        related_name="instructions",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批示领导"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Organisation, verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("批示内容"))
    due_on = models.DateField(_("办理期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=InstructionStatus.choices, default=InstructionStatus.OPEN
    )
    answer = models.TextField(_("办理结果"), blank=True)  # the latest answer (the history has all)
    created_at = models.DateTimeField(_("批示时间"), default=timezone.now)
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("领导阅批")
        verbose_name_plural = _("领导阅批")
        ordering = ["due_on", "id"]
        indexes = [
            # "阅批待回复" of a unit, soonest deadline first.
            models.Index(fields=["unit", "status", "due_on"], name="instruction_unit_idx"),
            # "阅批已回复" of a leader, and the leader's own ledger.
            models.Index(fields=["leader", "status", "due_on"], name="instruction_leader_idx"),
            models.Index(fields=["status", "due_on"], name="instruction_status_idx"),
            models.Index(fields=["petition", "created_at"], name="instruction_petition_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Not answered by its deadline: the unit still owes the answer."""
        today = today or timezone.localdate()
        return self.status == InstructionStatus.OPEN and self.due_on < today


class InstructionStep(models.TextChoices):
    ISSUED = "issued", _("领导批示")
    ANSWERED = "answered", _("承办单位回复")
    RETURNED = "returned", _("领导要求继续办理")
    CLOSED = "closed", _("领导已阅办结")


class InstructionEntry(models.Model):
    """One step of an instruction's history.  Kept here rather than as ``PetitionEvent`` kinds,
    which would need a migration of ``petitions``; the petition page shows them in its 阅批 panel."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="entries")
    step = models.CharField(_("环节"), max_length=10, choices=InstructionStep.choices)
    text = models.TextField(_("内容"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["instruction", "at"], name="instruction_entry_idx")]

    def __str__(self) -> str:
        return f"{self.instruction_id} {self.step}"


class ShiftKind(models.TextChoices):
    DAY = "day", _("白班")
    NIGHT = "night", _("夜班")
    HOLIDAY = "holiday", _("节假日")


class DutyShift(models.Model):
    """One shift of an organisation's duty rota (值班): the leader on duty and the staff on duty."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("值班单位"), on_delete=models.PROTECT, related_name="+"
    )
    organisation_path = models.CharField(max_length=255, editable=False)
    date = models.DateField(_("值班日期"))
    kind = models.CharField(_("班次"), max_length=10, choices=ShiftKind.choices, default=ShiftKind.DAY)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("带班领导"), on_delete=models.PROTECT, related_name="+"
    )
    staff_on_duty = models.CharField(_("值班人员"), max_length=200, blank=True)
    phone = models.CharField(_("值班电话"), max_length=40, blank=True)  # the office's line, not a person's

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班安排")
        ordering = ["date", "kind", "id"]
        indexes = [
            # The month's rota of a scope: a date range, then the tree prefix.
            models.Index(fields=["date", "organisation_path"], name="shift_date_idx"),
            models.Index(fields=["leader", "date"], name="shift_leader_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "date", "kind"],
                name="shift_one_per_kind",
                violation_error_message=_("该单位当天已有此班次的值班安排。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.organisation_path = self.organisation.path
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class DutyLogEntry(models.Model):
    """One entry of the duty log (领导值班记录): what happened, what was done, handed over to whom."""

    shift = models.ForeignKey(DutyShift, on_delete=models.CASCADE, related_name="log_entries")
    at = models.DateTimeField(_("时间"))
    happened = models.TextField(_("值班情况"))
    action_taken = models.TextField(_("处理情况"), blank=True)
    handed_over_to = models.CharField(_("交接给"), max_length=100, blank=True)
    petitions = models.ManyToManyField(
        "petitions.Petition", verbose_name=_("涉及信访事项"), blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("值班记录")
        verbose_name_plural = _("值班记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["shift", "at"], name="dutylog_shift_idx")]

    def __str__(self) -> str:
        return f"{self.shift_id} {self.at:%Y-%m-%d %H:%M}"
