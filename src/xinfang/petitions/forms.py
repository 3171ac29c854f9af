"""Staff forms for registering petitions."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from xinfang.core.forms import MultipleFileField
from xinfang.organisations.models import Organisation

from . import attachments as att
from .choices import MAX_REPRESENTATIVES, Channel, Purpose
from .drafts import PetitionDraft, PetitionerDraft
from .filtersets import PetitionFilter
from .models import Category
from .services import localities
from .validators import check_id_number, check_phone


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return str(obj)


def leaf_categories():
    return Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent")


class PetitionForm(forms.Form):
    """The petition part of the registration form; petitioners come from PetitionerFormSet."""

    channel = forms.ChoiceField(label=_("信访形式"), choices=Channel.choices)
    purpose = forms.ChoiceField(label=_("信访目的"), choices=Purpose.choices)
    received_on = forms.DateField(
        label=_("收到日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    headcount = forms.IntegerField(
        label=_("人数"), min_value=1, initial=1, help_text=_("5人及以上为集体访，最多推选5名代表")
    )
    title = forms.CharField(label=_("标题"), max_length=200)
    content = forms.CharField(
        label=_("信访内容"), widget=forms.Textarea(attrs={"rows": 8}), help_text=_("诉求、事实和理由")
    )
    category = CategoryChoiceField(label=_("问题分类"), queryset=leaf_categories(), empty_label=_("请选择"))
    locality = forms.ModelChoiceField(label=_("问题属地"), queryset=localities(), empty_label=_("请选择"))
    subject_name = forms.CharField(label=_("被反映人/单位"), max_length=200, required=False)
    # A report (检举控告): whom it accuses, confirmed by the clerk before it can be routed (条例
    # Art. 30 ¶3, issue #7 point 1).  Either the organisation or "names none"; else later, by action.
    subject_organisation = forms.ModelChoiceField(
        label=_("被检举控告单位"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("检举控告须确认被检举控告单位（或确认未指向具体单位），确认后方可转送、交办或受理"),
    )
    no_subject_organisation = forms.BooleanField(label=_("检举控告未指向具体单位"), required=False)
    subject_person = forms.CharField(
        label=_("被检举控告人"), max_length=200, required=False, help_text=_("加密保存")
    )
    attachments = MultipleFileField(
        label=_("附件"),
        required=False,
        # format_lazy: formatted per request, in the reader's language (not once at import).
        help_text=format_lazy(
            _("扫描件、照片等，单个不超过10MB，类型：{types}"), types=" ".join(att.ALLOWED_SUFFIXES)
        ),
    )

    def __init__(self, *args, office: Organisation | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = leaf_categories()
        self.fields["locality"].queryset = localities()
        # The accused a clerk may name: around the office (workflow.routing.accused_choices, which
        # petitions may not import), else any active organisation.
        accused = Organisation.objects.filter(is_active=True).order_by("path")
        if office is not None:
            area = office.parent or office
            chain = [int(p) for p in area.path.strip("/").split("/") if p]
            accused = accused.filter(Q(path__startswith=area.path) | Q(pk__in=chain) | Q(parent_id__in=chain))
        self.fields["subject_organisation"].queryset = accused
        self.fields["received_on"].initial = timezone.localdate()

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data["attachments"]
        att.check_attachments(uploads)
        return uploads

    def to_draft(
        self, petitioners: list[PetitionerDraft], uploads: list, repeat_of: str = ""
    ) -> PetitionDraft:
        data = self.cleaned_data
        return PetitionDraft(
            channel=data["channel"],
            purpose=data["purpose"],
            title=data["title"],
            content=data["content"],
            category_id=data["category"].pk,
            locality_id=data["locality"].pk,
            received_on=data["received_on"],
            headcount=data["headcount"],
            subject_name=data.get("subject_name", ""),
            subject_organisation_id=getattr(data.get("subject_organisation"), "pk", None),
            no_subject_organisation=bool(data.get("no_subject_organisation")),
            subject_person=data.get("subject_person", ""),
            repeat_of_number=repeat_of,
            petitioners=petitioners,
            attachments=uploads,
        )


class PetitionerForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=18,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "js-repeat-key"}),
    )
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "js-repeat-key"}),
    )
    address = forms.CharField(label=_("住址"), max_length=200, required=False)

    # The service checks these again; checking here too lets the clerk see every error at once.
    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"]
        return check_id_number(value) if value.strip() else ""

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"]
        return check_phone(value) if value.strip() else ""

    def to_draft(self) -> PetitionerDraft:
        data = self.cleaned_data
        return PetitionerDraft(
            name=data.get("name", ""),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            address=data.get("address", ""),
        )


PetitionerFormSet = forms.formset_factory(
    PetitionerForm, extra=MAX_REPRESENTATIVES, max_num=MAX_REPRESENTATIVES, absolute_max=MAX_REPRESENTATIVES
)


class QueueFilterForm(forms.Form):
    """The filters of the work queue (and of its export, which reads the same parameters).

    By default the queue shows open work: final states are left out unless ``all`` is ticked or a
    status is chosen (choosing 已终结 shows the concluded ones), or a workbench ``section`` is asked
    for (the section decides which petitions it holds, so its count and its list agree)."""

    q = forms.CharField(label=_("编号/关键词"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("状态"), required=False)
    channel = forms.ChoiceField(
        label=_("信访形式"), required=False, choices=[("", _("全部"))] + list(Channel.choices)
    )
    purpose = forms.ChoiceField(
        label=_("信访目的"), required=False, choices=[("", _("全部"))] + list(Purpose.choices)
    )
    category = forms.ModelChoiceField(
        label=_("问题分类"),
        required=False,
        empty_label=_("全部"),
        queryset=Category.objects.filter(parent__isnull=True),
    )
    received_from = forms.DateField(
        label=_("收到日期从"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    received_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    repeat = forms.BooleanField(label=_("重复信访"), required=False)
    collective = forms.BooleanField(label=_("集体访"), required=False)
    urgent = forms.BooleanField(label=_("重大紧急"), required=False)
    overdue = forms.BooleanField(label=_("已超期"), required=False)
    mine = forms.BooleanField(label=_("我承办的"), required=False)
    all = forms.BooleanField(label=_("显示全部（含已办结）"), required=False)
    # Look-up by petitioner (issue #12 §1): the exact name; the ID number's last four characters
    # (for staff who may reveal personal data).  Both audited.
    petitioner_name = forms.CharField(label=_("信访人姓名"), required=False, max_length=50)
    id_tail = forms.CharField(label=_("身份证号后四位"), required=False, min_length=4, max_length=4)
    section = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("relevance", _("相关度")),
            ("due_on", _("时限由近到远")),
            ("-due_on", _("时限由远到近")),
            ("-registered_at", _("最新登记")),
            ("received_on", _("收到日期")),
        ],
    )

    def to_filter(self, user: object = None) -> PetitionFilter:
        """The filter for the cleaned data; ``user`` is whom "我承办的" means."""
        data = self.cleaned_data
        return PetitionFilter(
            q=data["q"],
            status=data["status"],
            channel=data["channel"],
            purpose=data["purpose"],
            category=data["category"],
            received_from=data["received_from"],
            received_to=data["received_to"],
            # A ticked box narrows to the flagged petitions; an empty one does not filter.
            is_repeat=True if data["repeat"] else None,
            is_collective=True if data["collective"] else None,
            is_urgent=True if data["urgent"] else None,
            open_only=not (data["all"] or data["status"] or data["section"]),
            overdue=bool(data["overdue"]),
            handler=getattr(user, "pk", None) if data["mine"] else None,
            # No order chosen: by relevance when searching words, else by deadline.
            ordering=data["sort"] or "",
            petitioner_name=data["petitioner_name"],
            id_tail=data["id_tail"],
            actor=user,
        )

    def __init__(self, *args, **kwargs) -> None:
        from .choices import Status

        kwargs.setdefault("label_suffix", "")  # Chinese labels take no ASCII colon (issue #8 §7)
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("全部"))] + list(Status.choices)
        self.fields["category"].queryset = Category.objects.filter(parent__isnull=True)


class CategoryForm(forms.Form):
    """A node of the issue-category tree (system administrator)."""

    name = forms.CharField(label=_("名称"), max_length=50)
    code = forms.CharField(label=_("代码"), max_length=20)
    parent = forms.ModelChoiceField(
        label=_("上级分类"),
        required=False,
        empty_label=_("（一级分类）"),
        queryset=Category.objects.filter(parent__isnull=True),
    )
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, initial=0)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
