"""The supervision actions in the petition page's action panel (``workflow.actions.register_action``).

The panel's form is shared by every action, so the fields added here carry a ``supervision_``
prefix (no clash with other apps' fields); ``ARGUMENT_NAMES`` maps them to the services'
arguments.  Field choices are built per petition, lazily: nothing is queried unless the field is
shown.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import User
from xinfang.petitions.models import Petition

from . import services
from .models import NoticeKind, NoticeStatus, SupervisionNotice


class NoticeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SupervisionNotice) -> str:
        return _("{kind} · {office} → {unit} · 反馈期限 {date} · {status}").format(
            kind=obj.get_kind_display(),
            office=obj.office.name,
            unit=obj.unit.name,
            date=obj.respond_by.isoformat(),
            status=obj.get_status_display(),
        )


class LeaderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} · {obj.organisation.name if obj.organisation else ''}"


def _leaders(petition: Petition) -> Any:
    """Leaders who may be named for a listed supervision of this petition: of any petition office
    on the registering office's line, or of that office's government (the service checks that the
    leader belongs to the issuing office's own line)."""
    governments = [int(p) for p in petition.office.path.strip("/").split("/") if p]
    in_line = Q(organisation_id__in=governments) | Q(
        organisation__parent_id__in=governments, organisation__kind=OrganisationKind.PETITION_OFFICE
    )
    return (
        User.objects.filter(in_line, is_active=True, roles__code=RoleCode.LEADER)
        .select_related("organisation")
        .distinct()
        .order_by("organisation__path", "username")
    )


def _notices(petition: Petition) -> Any:
    return (
        SupervisionNotice.objects.filter(petition=petition)
        .exclude(status=NoticeStatus.LIFTED)
        .select_related("office", "unit")
        .order_by("-issued_at")
    )


def _date_field(label: str, help_text: str) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, help_text=help_text,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )  # fmt: skip


EXTRA_FIELDS = {
    "supervision_kind": lambda petition: forms.ChoiceField(
        label=_("督办方式"), required=False, choices=[("", "---------"), *NoticeKind.choices]
    ),
    "supervision_requirements": lambda petition: forms.CharField(
        label=_("督办要求"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明督办事由（如逾期未办结、推诿拖延）和要求被督办单位做到的事项。"),
    ),  # fmt: skip
    "supervision_respond_by": lambda petition: _date_field(
        _("反馈期限"),
        _("须晚于今天；不填则为5个工作日后。逾期未反馈的，系统先告知被督办单位领导，再报上一级信访部门。"),
    ),
    "supervision_leader": lambda petition: LeaderChoiceField(
        label=_("挂牌领导（挂牌督办必选）"), required=False, queryset=_leaders(petition)
    ),
    "supervision_published": lambda petition: forms.BooleanField(
        label=_("在信访人查询页面显示“上级机关已督办”（不显示督办内容）"), required=False
    ),
    "supervision_notice": lambda petition: NoticeChoiceField(
        label=_("督办通知（有多份时须选择）"), required=False, queryset=_notices(petition)
    ),
    "supervision_feedback": lambda petition: forms.CharField(
        label=_("反馈内容"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("写明办理进展和结果；提交后由督办机关审核，认可后督办办结，退回的须重新反馈。"),
    ),  # fmt: skip
}


# action: (service, the fields shown, in order)
PANEL = {
    "supervise": (services.supervise, ("supervision_kind", "supervision_requirements",
                                       "supervision_respond_by", "supervision_leader",
                                       "supervision_published")),
    "answer_supervision": (services.answer_supervision, ("supervision_notice", "supervision_feedback")),
    "accept_supervision_answer": (services.accept_supervision_answer, ("supervision_notice", "comment")),
    "return_supervision_answer": (services.return_supervision_answer,
                                  ("supervision_notice", "reasons", "supervision_respond_by")),
    "lift_supervision": (services.lift_supervision, ("supervision_notice", "reasons")),
}  # fmt: skip

# The service argument behind each prefixed form field: the act view calls the service with these
# names, and points a refusal naming an argument (``params["field"]``) back at its field.
FIELD_OF_ARGUMENT = {
    "kind": "supervision_kind",
    "requirements": "supervision_requirements",
    "respond_by": "supervision_respond_by",
    "leader": "supervision_leader",
    "published": "supervision_published",
    "notice": "supervision_notice",
    "text": "supervision_feedback",
}


def register_panel_actions() -> None:
    from xinfang.workflow.actions import ARGUMENT_NAMES, register_action

    for argument, field in FIELD_OF_ARGUMENT.items():
        ARGUMENT_NAMES[field] = argument
    for action, (service, fields) in PANEL.items():
        extra = {name: EXTRA_FIELDS[name] for name in fields if name in EXTRA_FIELDS}
        register_action(action, service, fields, extra)
