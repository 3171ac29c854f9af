"""Petitions, their petitioners, categories, attachments and timeline events."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation

from .choices import Channel, Conclusion, EventKind, InvolvementReason, Purpose, Status


class Category(models.Model):
    """A node of the issue-category tree (问题分类): first-level classes and their entries."""

    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    # 诉访分离 and 纪检监察 routing (issue #3): matters of this category go to the political-legal
    # organs or to discipline inspection, whatever the locality's ordinary routing rules say.
    route_to = models.CharField(
        _("专门渠道"),
        max_length=20,
        blank=True,
        choices=[
            (OrganisationKind.POLITICAL_LEGAL, _("政法机关（诉访分离）")),
            (OrganisationKind.DISCIPLINE, _("纪检监察机关")),
        ],
        help_text=_("涉法涉诉事项导入政法机关，党员干部违纪违法检举导入纪检监察机关。"),
    )

    class Meta:
        verbose_name = _("问题分类")
        verbose_name_plural = _("问题分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


class PetitionQuerySet(models.QuerySet):
    def restrict(self, user: object, action: str = "view") -> PetitionQuerySet:
        """The one scope every read goes through (see ``access.py``)."""
        from .access import restrict_petitions

        return restrict_petitions(self, user, action)


class Petition(models.Model):
    """One matter brought by a petitioner: the unit of work."""

    number = models.CharField(_("信访编号"), max_length=40, unique=True)
    office = models.ForeignKey(
        Organisation,
        verbose_name=_("登记机构"),
        on_delete=models.PROTECT,
        related_name="registered_petitions",
    )
    query_code_hash = models.CharField(max_length=64, editable=False)
    channel = models.CharField(_("信访形式"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("信访目的"), max_length=12, choices=Purpose.choices)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("信访内容"))
    category = models.ForeignKey(
        Category, verbose_name=_("问题分类"), on_delete=models.PROTECT, related_name="+"
    )
    locality = models.ForeignKey(
        Organisation, verbose_name=_("问题属地"), on_delete=models.PROTECT, related_name="+"
    )
    subject_name = models.CharField(_("被反映人/单位"), max_length=200, blank=True)
    subject_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("被反映单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 条例 Art. 30 ¶3: the person a report accuses, if named — sensitive, so encrypted at rest.
    subject_person = EncryptedTextField(_("被检举控告人"), blank=True, default="")
    # The intake clerk has confirmed whom a report accuses: named the organisation, or stated that
    # it names none.  Until then a report may not be routed (issue #7 point 1: the portal's citizen
    # names the accused in free text only, and the scope can hide a report only from a named body).
    subject_confirmed = models.BooleanField(_("已确认被检举控告对象"), default=False)
    received_on = models.DateField(_("收到日期"))
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    headcount = models.PositiveIntegerField(_("来访人数"), default=1)
    is_collective = models.BooleanField(_("集体访"), default=False)
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("重复信访所涉原件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
    )
    is_repeat = models.BooleanField(_("重复信访"), default=False)
    is_confidential = models.BooleanField(_("保密"), default=False)
    # Art. 25: a major or urgent matter is reported up the chain at once (report_urgent action).
    is_urgent = models.BooleanField(_("重大紧急"), default=False)
    conclusion = models.CharField(_("终结理由"), max_length=20, choices=Conclusion.choices, blank=True)
    concluded_on = models.DateField(_("终结日期"), null=True, blank=True)
    due_on = models.DateField(_("办理时限"), null=True, blank=True)
    # 承办人 / 首办责任人: the person working the petition inside the handling body (issue #8);
    # set by the assign_handler action, cleared when the petition moves to another body.
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_petitions",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("信访事项")
        verbose_name_plural = _("信访事项")
        ordering = ["-registered_at"]
        indexes = [
            # The work queue: filtered by status, ordered by deadline (issue #2, point 6).
            models.Index(fields=["status", "due_on"], name="petition_status_due_idx"),
            models.Index(fields=["due_on"], name="petition_due_idx"),
            models.Index(fields=["office", "status", "due_on"], name="petition_office_queue_idx"),
            models.Index(fields=["received_on"], name="petition_received_idx"),
            models.Index(fields=["concluded_on"], name="petition_concluded_idx"),  # stats roll-up
            models.Index(fields=["-registered_at"], name="petition_registered_idx"),
            models.Index(fields=["channel", "due_on"], name="petition_channel_idx"),
            models.Index(fields=["category", "due_on"], name="petition_category_idx"),
            models.Index(fields=["locality"], name="petition_locality_idx"),
            models.Index(fields=["is_repeat"], name="petition_repeat_idx", condition=Q(is_repeat=True)),
            models.Index(
                fields=["is_collective"], name="petition_collective_idx", condition=Q(is_collective=True)
            ),
            models.Index(fields=["is_urgent"], name="petition_urgent_idx", condition=Q(is_urgent=True)),
            # "Assigned to me" on the queue and the workbench: my petitions, soonest deadline first.
            models.Index(
                fields=["handler", "due_on"], name="petition_handler_idx", condition=Q(handler__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class Petitioner(models.Model):
    """A person who brings a petition, or one of the representatives of a group (at most five).

    ID and phone numbers are encrypted at rest; ``*_hash`` columns are keyed HMACs for finding the
    same person again, ``*_mask`` the masked form shown in lists (so lists never decrypt).
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="petitioners")
    position = models.PositiveSmallIntegerField(default=0)
    is_representative = models.BooleanField(_("代表"), default=False)
    name = models.CharField(_("姓名"), max_length=50)
    # Look-up by name (issue #12 §1): a keyed hash of the normalised name, so the exact look-up is
    # one index probe whatever the spelling's width or spacing (``petitioner_name_hash``).
    name_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    id_number = EncryptedTextField(_("身份证号码"), null=True, blank=True)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    id_number_mask = models.CharField(max_length=24, blank=True, editable=False)
    # The last four characters, the ones the mask shows anyway: look-up by ID tail for staff who
    # may reveal personal data (``id_tail_of``).
    id_number_tail = models.CharField(max_length=4, blank=True, default="", editable=False)
    phone = EncryptedTextField(_("联系电话"), null=True, blank=True)
    phone_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone_mask = models.CharField(max_length=24, blank=True, editable=False)
    address = EncryptedTextField(_("住址"), blank=True, default="")

    class Meta:
        verbose_name = _("信访人")
        verbose_name_plural = _("信访人")
        ordering = ["petition", "position"]
        indexes = [
            models.Index(fields=["id_number_hash"], name="petitioner_id_hash_idx"),
            models.Index(fields=["phone_hash", "name"], name="petitioner_phone_name_idx"),
            models.Index(fields=["name"], name="petitioner_name_idx"),
            models.Index(fields=["name_hash"], name="petitioner_name_hash_idx"),
            models.Index(
                fields=["id_number_tail"], name="petitioner_id_tail_idx", condition=~Q(id_number_tail="")
            ),
        ]

    def __str__(self) -> str:
        return self.name


def petitioner_name_hash(name: str) -> str | None:
    """The keyed hash of a name, normalised (full-width to half-width, spaces removed, Latin
    lower-cased), or None for an empty name."""
    import unicodedata

    from xinfang.core.crypto import blind_index

    normal = "".join(unicodedata.normalize("NFKC", name or "").split()).lower()
    return blind_index(normal, purpose="name") if normal else None


def id_tail_of(id_number: str) -> str:
    """The last four characters of an ID number as stored in ``id_number_tail`` (X upper-cased)."""
    return "".join((id_number or "").split())[-4:].upper()


class Involvement(models.Model):
    """An organisation that may see a petition, and why.

    The staff scope is "petitions registered by, assigned to or supervised by my organisation or its
    subtree".  Instead of OR-ing joins on every read, each of those links is one row here carrying
    the organisation's tree path, so the scope is one index range scan: ``organisation_path LIKE
    'my/path/%'``.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="involvements")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    organisation_path = models.CharField(max_length=255)
    reason = models.CharField(max_length=12, choices=InvolvementReason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "organisation", "reason"], name="involvement_unique"),
        ]
        indexes = [
            models.Index(
                fields=["organisation_path", "petition"],
                name="involvement_scope_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            # The same scope checked the other way round, one petition at a time: when a list or a
            # capped count walks petitions (by deadline, status, handler …) PostgreSQL probes
            # "is this petition in my subtree?" per row.  With the path in the index that probe is
            # index-only instead of a visit to each involvement row (workbench counts, issue #8 §5).
            models.Index(
                fields=["petition", "organisation_path"],
                name="involvement_probe_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}@{self.organisation_id} ({self.reason})"


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random name: the original name is kept in the row, never trusted on disk."""
    suffix = PurePath(filename).suffix.lower()[:10]
    today = timezone.localdate()
    return f"attachments/{today:%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A scanned letter, photo or piece of evidence.  Served only through a scoped view.

    The stored file is encrypted (core.files; issue #7 point 24): ``size`` and ``sha256`` are
    those of the plaintext, as uploaded."""

    # Found by xinfang rotate_keys and xinfang backup (core.rotation).
    ENCRYPTED_FILE_FIELDS = ("file",)

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["petition", "id"]

    def __str__(self) -> str:
        return self.original_name


class PetitionEvent(models.Model):
    """One entry of a petition's timeline.

    ``public_note`` is what the petitioner may read on the portal (only for ``is_public`` events);
    ``comment`` is internal and never leaves the staff system.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_public = models.BooleanField(default=False)
    public_note = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["petition", "at"], name="event_petition_idx")]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.kind} {self.at:%Y-%m-%d}"


class Recusal(models.Model):
    """A staff member stepping aside from one petition (回避, 条例 Art. 28 ¶3): a direct interest in
    the matter or a relationship with the petitioner.  The scope (access.py) hides the petition from
    the recused person from then on, for every read and every action."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="recusals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回避人员"),
        on_delete=models.PROTECT,
        related_name="recusals",
    )
    reason = models.TextField(_("回避理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("回避")
        verbose_name_plural = _("回避")
        constraints = [models.UniqueConstraint(fields=["user", "petition"], name="recusal_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} ⟂ {self.petition_id}"


class NumberSequence(models.Model):
    """The last number issued by an office in a year: petition numbers are gap-free per office and year."""

    office = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.office_id}/{self.year}: {self.last}"
