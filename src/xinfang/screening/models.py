"""The dispute screening ledger (矛盾纠纷排查台账).

``Dispute`` is the anchor other apps link to (a leader contracts a dispute, a dispute turns into a
petition); the screening helper's fields, parties, rounds and briefings extend it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DisputeStatus(models.TextChoices):
    SCREENED = "screened", _("已排查")
    IN_RESOLUTION = "in_resolution", _("化解中")
    RESOLVED = "resolved", _("已化解")
    TURNED_PETITION = "turned_petition", _("已转信访")
    HANDED_OVER = "handed_over", _("已移交诉讼、仲裁等")


class Dispute(models.Model):
    """One dispute that may turn into petitions, with who must resolve it and by when."""

    number = models.CharField(_("编号"), max_length=40, unique=True)
    # The responsible unit; its tree path is copied so the scope is one prefix scan (like Involvement).
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="disputes",
        verbose_name=_("责任单位"),
    )
    organisation_path = models.CharField(max_length=255, editable=False)
    title = models.CharField(_("纠纷名称"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.SCREENED
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["organisation_path", "status"],
                name="dispute_scope_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.organisation_path = self.organisation.path
        super().save(*args, **kwargs)
