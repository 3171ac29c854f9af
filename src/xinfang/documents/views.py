"""Staff pages of documents (文书, issue #10 points 4, 6, 7, 8): draft, edit, approve, issue,
print, download and serve a document; the lists of documents awaiting service or approval; the
system administrator's templates and settings.  Parsing only: every rule is in ``services`` and
``templates_admin``; their refusals come back on the form, with everything typed kept."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.core.docx import MAX_TEMPLATE_BYTES
from xinfang.core.files import open_plaintext
from xinfang.core.forms import add_service_errors
from xinfang.core.xlsx import xlsx_response
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions.access import PetitionNotFound, access_petition
from xinfang.petitions.models import Petition
from xinfang.workflow.engine import acts_for, leader_line

from . import kinds as kinds_module
from . import printing, services, templates_admin
from .choices import DocumentKind, DocumentStatus
from .forms import ApproveForm, BodyForm, KindSettingForm, ServiceForm, TemplateUploadForm
from .models import Document, KindSetting
from .pdf import ConversionFailed, docx_to_pdf
from .rendering import default_template, render_docx, template_bytes

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 50
EXPORT_CAP = 10_000
APPROVAL_SCAN_CAP = 500  # drafts read to find those a leader approves (the rule is per organisation)


def issue_consequence(kind: kinds_module.Kind) -> str:
    """What issuing does, said before the user confirms (by the workflow step it completes)."""
    step = kind.completes_step
    if step == "reply":
        return _(
            "印发后将生成文号，处理意见书即为对信访人的书面答复，信访事项进入已答复状态；"
            "送达后信访人的复查期限开始计算。"
        )
    if step == "review":
        return _(
            "印发后将生成文号，复查意见书即为复查意见，信访事项进入已复查状态；送达后信访人的复核期限开始计算。"
        )
    if step == "recheck":
        return _("印发后将生成文号，复核意见书即为复核意见，信访事项办结；信访人不再享有复查复核途径。")
    return _("印发后将生成文号，文书不能再修改；如需更正，请起草更正文书。")


def service_consequence(document: Document, served_on: dt.date | None = None) -> str:
    """What the day of service starts, for the service form and its success message."""
    day = served_on.isoformat() if served_on else _("送达之日")
    step = kinds_module.kind(document.kind).completes_step
    if step == "reply":
        return _("送达后，信访人的复查请求期限自{date}起计算。").format(date=day)
    if step == "review":
        return _("送达后，信访人的复核请求期限自{date}起计算。").format(date=day)
    return ""


# --- who may do what ----------------------------------------------------------------------------


def is_issuer_staff(user: Any, organisation: Organisation) -> bool:
    org = getattr(user, "organisation", None)
    return org is not None and user.has_role(*services.DRAFTING_ROLES) and acts_for(org, organisation)


def is_approver(user: Any, document: Document) -> bool:
    org = getattr(user, "organisation", None)
    if org is None or not user.has_role(RoleCode.LEADER):
        return False
    line = {o.pk for o in leader_line(document.organisation)}
    return org.pk in line or acts_for(org, document.organisation)


def permissions(user: Any, document: Document) -> dict[str, bool]:
    """The buttons of one document for ``user`` (the services check again)."""
    staff = is_issuer_staff(user, document.organisation)
    draft = not document.is_issued
    needs = draft and services.requires_approval(document)
    spec = kinds_module.kind(document.kind)
    return {
        "edit": staff and draft,
        "approve": needs and document.status == DocumentStatus.DRAFT and is_approver(user, document),
        "issue": staff and draft and (not needs or document.status == DocumentStatus.APPROVED),
        "awaits_approval": needs and document.status == DocumentStatus.DRAFT,
        "serve": staff and document.is_issued and not document.is_served,
        "correct": staff and document.is_issued and spec.available(document.petition)
        and not hasattr_superseded(document),
    }  # fmt: skip


def hasattr_superseded(document: Document) -> bool:
    try:
        return document.superseded_by is not None
    except Document.DoesNotExist:
        return False


def draftable_kinds(user: Any, petition: Petition) -> list[kinds_module.Kind]:
    """The kinds the petition has reached whose issuer ``user`` acts for."""
    result = []
    for spec in kinds_module.KINDS.values():
        try:
            if spec.available(petition) and is_issuer_staff(user, spec.issuer(petition)):
                result.append(spec)
        except Exception:  # noqa: BLE001, S112 — a kind that cannot tell for this petition is not offered
            continue
    return result


def open_draft(petition: Petition, kind: str) -> Document | None:
    return (
        Document.objects.filter(petition=petition, kind=kind)
        .exclude(status=DocumentStatus.ISSUED)
        .order_by("-pk")
        .first()
    )


def step_link(kind: str) -> Any:
    """For the action panel (``workflow.actions.register_redirect``): the open draft of the kind, or
    the page that drafts it."""

    def target(petition: Petition, user: Any) -> tuple[str, str]:
        label = DocumentKind(kind).label
        existing = open_draft(petition, kind)
        if existing is not None:
            return _("办理{kind}（草稿）").format(kind=label), reverse("documents:detail", args=[existing.pk])
        return _("起草{kind}").format(kind=label), reverse("documents:draft", args=[petition.number, kind])

    return target


# --- loading --------------------------------------------------------------------------------------


def get_document(request: HttpRequest, pk: int, action: str = "view") -> Document:
    """The document, if the user may see its petition (absent and forbidden look the same)."""
    document = get_object_or_404(
        Document.objects.select_related(
            "petition", "organisation", "template", "drafted_by", "approved_by", "issued_by",
            "service_recorded_by", "supersedes",
        ),
        pk=pk,
    )  # fmt: skip
    try:
        access_petition(request.user, document.petition.number, action)
    except PetitionNotFound:
        raise Http404(_("文书不存在或无权查看。")) from None
    return document


def record_fields(kind: kinds_module.Kind, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of the body drawn from the record: printed as it is, not edited."""
    editable = {f.name for f in kind.fields}
    return [(name, value) for name, value in body.items() if name not in editable and value]


# The names drawn from the record that the pages show next to the fields (the rest — dates, routing
# sentences, notices — is printed where the template puts it: see the print view).
RECORD_LABELS = {
    "petitioners": gettext_lazy("信访人"), "channel_label": gettext_lazy("信访形式"),
    "received_on_text": gettext_lazy("收到日期"), "locality": gettext_lazy("问题属地"),
    "request_summary": gettext_lazy("信访请求"), "request": gettext_lazy("请求及理由"),
    "review_notice": gettext_lazy("复查告知"),
}  # fmt: skip


def _labelled(kind: kinds_module.Kind, body: dict[str, Any]) -> list[tuple[Any, Any]]:
    fields = record_fields(kind, body)
    return [(RECORD_LABELS[name], value) for name, value in fields if name in RECORD_LABELS]


def body_rows(document: Document) -> list[tuple[Any, Any]]:
    """The body as (label, text) rows: each field's label, a choice as its label."""
    spec = kinds_module.kind(document.kind)
    body = document.body
    rows = []
    for f in spec.fields:
        value = body.get(f.name, "")
        if f.choices:
            value = dict(f.choices).get(value, value)
        rows.append((f.label, value))
    return rows + _labelled(spec, body)


# --- draft, edit ---------------------------------------------------------------------------------


def _render_draft(request: HttpRequest, petition: Petition, spec: kinds_module.Kind, form: BodyForm,
                  *, document: Document | None = None, supersedes: Document | None = None,
                  record: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:  # fmt: skip
    return render(
        request,
        "documents/draft.html",
        {"petition": petition, "kind": spec, "form": form, "document": document, "supersedes": supersedes,
         "record": _labelled(spec, record or {})},
        status=status,
    )  # fmt: skip


@role_required(*CASEWORK_ROLES)
def draft(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    """起草: the kind's fields prefilled from the record (``Kind.build``); nothing is saved before
    the user saves the draft."""
    if kind not in kinds_module.KINDS:
        raise Http404(_("没有这种文书。"))
    spec = kinds_module.kind(kind)
    try:
        petition = access_petition(request.user, number, "change")
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    supersedes = None
    supersedes_id = request.POST.get("supersedes") or request.GET.get("supersedes")
    if supersedes_id and str(supersedes_id).isdigit():
        supersedes = Document.objects.filter(pk=int(supersedes_id), petition=petition).first()
    if not spec.available(petition):
        messages.error(request, _("该信访事项尚未到需要{kind}的环节。").format(kind=spec.label))
        return redirect("petitions:detail", number=number)
    if not is_issuer_staff(request.user, spec.issuer(petition)):
        raise PermissionDenied(_("只有发文机关的工作人员可以起草该文书。"))
    existing = open_draft(petition, kind) if supersedes is None else None
    if existing is not None and request.method != "POST":
        messages.info(request, _("该文书已有草稿，请在草稿上继续修改。"))
        return redirect("documents:detail", pk=existing.pk)
    initial = spec.build(petition)
    if supersedes is not None:
        initial = {**initial, **supersedes.body}
    if request.method == "POST":
        form = BodyForm(request.POST, kind=spec)
        if form.is_valid():
            try:
                document = services.draft(user=request.user, number=number, kind=kind,
                                          body=form.cleaned_data, supersedes=supersedes)  # fmt: skip
            except PetitionNotFound:
                raise Http404(_("信访事项不存在或无权查看。")) from None
            except PermissionDenied as error:
                form.add_error(None, str(error) or _("无权起草该文书。"))
                return _render_draft(request, petition, spec, form, supersedes=supersedes, record=initial,
                                     status=403)  # fmt: skip
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("草稿已保存。") + _next_step(document))
                return redirect("documents:detail", pk=document.pk)
        messages.error(request, _("提交的内容有误，请检查标出的项目。"))
        return _render_draft(request, petition, spec, form, supersedes=supersedes, record=initial)
    form = BodyForm(initial=initial, kind=spec)
    return _render_draft(request, petition, spec, form, supersedes=supersedes, record=initial)


def _next_step(document: Document) -> str:
    if services.requires_approval(document) and document.status == DocumentStatus.DRAFT:
        return _("该文书须经领导审批后才能印发，请提请领导审批。")
    return _("核对无误后即可印发。")


@role_required(*CASEWORK_ROLES)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改草稿 (an approved draft that is changed goes back to the leader)."""
    document = get_document(request, pk, "change")
    spec = kinds_module.kind(document.kind)
    if document.is_issued:
        messages.error(request, _("文书已印发，不能修改；如需更正，请起草更正文书。"))
        return redirect("documents:detail", pk=pk)
    if not is_issuer_staff(request.user, document.organisation):
        raise PermissionDenied(_("只有发文机关的工作人员可以修改该文书。"))
    if request.method == "POST":
        form = BodyForm(request.POST, kind=spec)
        if form.is_valid():
            try:
                services.update_draft(user=request.user, document=document, body=form.cleaned_data)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("草稿已修改。") + _next_step(document))
                return redirect("documents:detail", pk=pk)
        messages.error(request, _("提交的内容有误，请检查标出的项目。"))
    else:
        form = BodyForm(initial=document.body, kind=spec)
    return _render_draft(request, document.petition, spec, form, document=document, record=document.body)


# --- the document page, approve, issue, serve ------------------------------------------------------


def _detail(request: HttpRequest, document: Document, *, approve_form: ApproveForm | None = None,
            status: int = 200) -> HttpResponse:  # fmt: skip
    return render(
        request,
        "documents/detail.html",
        {"document": document, "rows": body_rows(document), "may": permissions(request.user, document),
         "approve_form": approve_form or ApproveForm(), "consequence": service_consequence(document)},
        status=status,
    )  # fmt: skip


@role_required(*CASEWORK_ROLES)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_document(request, pk))


@require_POST
@role_required(*CASEWORK_ROLES)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """审批 by a leader of the issuer or above it; the note is kept with the document."""
    document = get_document(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _detail(request, document, approve_form=form)
    returning = request.POST.get("decision") == "return"
    try:
        if returning:
            services.return_draft(user=request.user, document=document, note=form.cleaned_data["note"])
        else:
            services.approve(user=request.user, document=document, note=form.cleaned_data["note"])
    except PermissionDenied as error:
        messages.error(request, str(error) or _("只有发文机关或其上级的领导可以审批该文书。"))
        return _detail(request, document, approve_form=form, status=403)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _detail(request, document, approve_form=form)
    if returning:
        messages.success(request, _("已退回修改。起草人将收到提醒，修改后须重新审批。"))
        return redirect("documents:detail", pk=pk)
    messages.success(request, _("已审批同意。承办人现在可以印发该文书。"))
    return redirect("documents:detail", pk=pk)


@role_required(*CASEWORK_ROLES)
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    """印发, after a page that says what happens (the number, the workflow step, the windows)."""
    document = get_document(request, pk, "change")
    spec = kinds_module.kind(document.kind)
    if document.is_issued:
        messages.info(request, _("该文书已印发。"))
        return redirect("documents:detail", pk=pk)
    context = {"document": document, "rows": body_rows(document), "consequence": issue_consequence(spec)}
    if request.method == "POST":
        try:
            document = services.issue(user=request.user, document=document)
        except PetitionNotFound:
            raise Http404(_("信访事项不存在或无权查看。")) from None
        except PermissionDenied as error:
            messages.error(request, str(error) or _("只有发文机关的工作人员可以印发该文书。"))
            return render(request, "documents/issue.html", context, status=403)
        except ValidationError as error:  # DocumentRefused, or the workflow step refused
            messages.error(request, " ".join(error.messages))
            return render(request, "documents/issue.html", context)
        messages.success(
            request,
            _("已印发，文号：{reference}。请打印并送达，送达后登记送达情况。").format(
                reference=document.reference
            ),
        )
        return redirect("documents:detail", pk=pk)
    return render(request, "documents/issue.html", context)


@role_required(*CASEWORK_ROLES)
def serve(request: HttpRequest, pk: int) -> HttpResponse:
    """登记送达: the way, the day and what that way records."""
    document = get_document(request, pk)
    if request.method == "POST":
        form = ServiceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_service(user=request.user, document=document, method=data["method"],
                                        served_on=data["served_on"], detail=form.detail())  # fmt: skip
            except PermissionDenied as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("已登记送达。") + service_consequence(document, data["served_on"])
                )
                return redirect("documents:detail", pk=pk)
        messages.error(request, _("提交的内容有误，请检查标出的项目。"))
    else:
        form = ServiceForm()
    return render(
        request,
        "documents/serve.html",
        {"document": document, "form": form, "consequence": service_consequence(document)},
    )


# --- print and download ----------------------------------------------------------------------------


@role_required(*CASEWORK_ROLES)
def print_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The document alone on A4 pages, read from its own DOCX (``printing``): the issued file as
    kept, a draft as the next issue would make it.  No menu, no buttons, no internal notes."""
    document = get_document(request, pk)
    record_event(actor=request.user, action="document.print", obj=document, data={"kind": document.kind})
    return render(
        request,
        "documents/print.html",
        {"document": document, "sheets": printing.sheets(_docx_bytes(document)),
         "title": f"{document.get_kind_display()} {document.reference}".strip()},
    )  # fmt: skip


def _docx_bytes(document: Document) -> bytes:
    if document.is_issued:
        with open_plaintext(document.docx_file) as reader:
            return reader.read()
    return _draft_docx(document)


def _filename(document: Document, ext: str) -> str:
    stem = document.reference or _("{kind}（草稿）").format(kind=document.get_kind_display())
    return f"{stem}.{ext}"


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"document\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


def _draft_docx(document: Document) -> bytes:
    """A draft is rendered on the fly with the template the next issue would use."""
    return render_docx(document, template_bytes(document.kind, services.current_template(document.kind)))


@role_required(*CASEWORK_ROLES)
def download_docx(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_document(request, pk)
    content = _docx_bytes(document)
    record_event(actor=request.user, action="document.download", obj=document, data={"format": "docx"})
    return _attachment(
        content,
        DOCX_TYPE,
        _filename(document, "docx"),
    )


@role_required(*CASEWORK_ROLES)
def download_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .tasks import ensure_pdf

    document = get_document(request, pk)
    try:
        content = ensure_pdf(document) if document.is_issued else docx_to_pdf(_draft_docx(document))
    except (ConversionFailed, OSError):
        messages.error(request, _("PDF暂时无法生成，请先下载DOCX打印，或稍后再试。"))
        return redirect("documents:detail", pk=pk)
    record_event(actor=request.user, action="document.download", obj=document, data={"format": "pdf"})
    return _attachment(content, "application/pdf", _filename(document, "pdf"))


# --- lists ------------------------------------------------------------------------------------------


def scope_organisations(user: Any) -> list[int]:
    """Whose documents a user lists: their organisation's, and for a petition office its government's."""
    org = user.organisation
    ids = [org.pk]
    if org.kind == OrganisationKind.PETITION_OFFICE and org.parent_id:
        ids.append(org.parent_id)
    return ids


def unserved(user: Any) -> Any:
    """Issued, not yet served, oldest first (index document_unserved_idx)."""
    return (
        Document.objects.filter(
            organisation_id__in=scope_organisations(user),
            status=DocumentStatus.ISSUED,
            served_on__isnull=True,
        )
        .select_related("petition", "organisation")
        .order_by("issued_on", "pk")
    )


def awaiting_approval(user: Any) -> list[Document]:
    """Drafts the leader approves: of their organisation, the bodies below it up to the next level
    of government, or the government their office acts for (the rule of ``services.approve``)."""
    org = user.organisation
    roots = Q(organisation__path__startswith=org.path)
    if org.kind == OrganisationKind.PETITION_OFFICE and org.parent_id:
        roots |= Q(organisation_id=org.parent_id)
    drafts = list(
        Document.objects.filter(roots, status=DocumentStatus.DRAFT)
        .select_related("petition", "organisation", "drafted_by")
        .order_by("drafted_at", "pk")[:APPROVAL_SCAN_CAP]
    )
    # One query for the approval rules and one leader line per organisation, not per draft.
    rules = services.approval_rules(drafts)
    approves: dict[int, bool] = {}
    for d in drafts:
        if d.organisation_id not in approves:
            approves[d.organisation_id] = is_approver(user, d)
    return [d for d in drafts if approves[d.organisation_id] and rules[d.organisation_id, d.kind]]


LISTS = {"unserved": gettext_lazy("待送达的文书"), "awaiting_approval": gettext_lazy("待审批的文书")}


@role_required(*CASEWORK_ROLES)
def document_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "unserved"
    if status not in LISTS:
        raise Http404(_("没有这个文书列表。"))
    if status == "awaiting_approval":
        if not request.user.has_role(RoleCode.LEADER):
            raise PermissionDenied(_("只有领导审批文书。"))
        rows: Any = awaiting_approval(request.user)
    else:
        rows = unserved(request.user)
    title = str(LISTS[status])
    if request.GET.get("format") == "xlsx":
        header = [_("信访编号"), _("文书种类"), _("文号"), _("发文机关"), _("受文人"), _("状态"),
                  _("起草时间"), _("成文日期")]  # fmt: skip
        return xlsx_response(
            title=title,
            header=header,
            rows=(
                [d.petition.number, d.get_kind_display(), d.reference, d.organisation.name, d.addressee,
                 d.get_status_display(), d.drafted_at.strftime("%Y-%m-%d %H:%M"),
                 d.issued_on.isoformat() if d.issued_on else ""]
                for d in rows[:EXPORT_CAP]
            ),
        )  # fmt: skip
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/list.html",
        {"page": page, "status": status, "title": title, "lists": LISTS,
         "is_leader": request.user.has_role(RoleCode.LEADER)},
    )  # fmt: skip


# --- system administrator: templates and settings --------------------------------------------------


@role_required(RoleCode.SYSADMIN)
def templates_index(request: HttpRequest) -> HttpResponse:
    """Per kind: the version in use, its download, the upload of a new version, the versions."""
    rows = []
    for code, spec in sorted(
        kinds_module.KINDS.items(), key=lambda item: list(DocumentKind.values).index(item[0])
    ):
        versions = templates_admin.versions(code)
        current = versions[0] if versions else None
        rows.append({"kind": spec, "code": code, "versions": versions, "current": current,
                     "has_default": templates_admin.has_default(code), "form": TemplateUploadForm(),
                     "names": sorted(templates_admin.sample_context(code))})  # fmt: skip
    return render(request, "documents/templates.html", {"rows": rows})


@require_POST
@role_required(RoleCode.SYSADMIN)
def template_upload(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in kinds_module.KINDS:
        raise Http404(_("没有这种文书。"))
    form = TemplateUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            template = templates_admin.save_template(
                user=request.user, kind=kind, filename=upload.name,
                content=upload.read(MAX_TEMPLATE_BYTES + 1), note=form.cleaned_data["note"],
            )  # fmt: skip
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("已上传{kind}模板第{version}版。此后印发的文书使用新版本，已印发的文书不变。").format(
                    kind=kinds_module.kind(kind).label, version=template.version
                ),
            )
    else:
        messages.error(request, _("请选择模板文件。"))
    return redirect(reverse("documents:templates") + f"#template-{kind}")


@role_required(RoleCode.SYSADMIN)
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    """A version (``?version=N``), the newest by default, or the built-in default (``?version=0``)."""
    if kind not in kinds_module.KINDS:
        raise Http404(_("没有这种文书。"))
    version = request.GET.get("version")
    if version == "0" or (version is None and services.current_template(kind) is None):
        if not templates_admin.has_default(kind):
            raise Http404(_("该文书没有默认模板。"))
        content, name = default_template(kind), f"{kind}-default.docx"
    else:
        template = services.current_template(kind) if version is None else _version(kind, version)
        if template is None:
            raise Http404(_("没有这个模板版本。"))
        content, name = bytes(template.content), f"{kind}-v{template.version}.docx"
    return _attachment(
        content, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", name
    )


def _version(kind: str, version: str) -> Any:
    from .models import DocumentTemplate

    if not version.isdigit():
        return None
    return DocumentTemplate.objects.filter(kind=kind, version=int(version)).first()


@role_required(RoleCode.SYSADMIN)
def settings_index(request: HttpRequest) -> HttpResponse:
    """Per organisation and kind: the reference prefix and whether a leader approves before issue."""
    if request.method == "POST":
        form = KindSettingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                templates_admin.save_setting(
                    user=request.user, organisation=data["organisation"], kind=data["kind"],
                    prefix=data["prefix"], requires_approval=data["requires_approval"],
                )  # fmt: skip
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("已保存。此后印发的文书使用新的文号前缀和审批规则。"))
                return redirect("documents:settings")
        messages.error(request, _("提交的内容有误，请检查标出的项目。"))
    else:
        initial = {}
        if (org := request.GET.get("organisation", "")).isdigit():
            initial["organisation"] = int(org)
        form = KindSettingForm(initial=initial)
    settings = KindSetting.objects.select_related("organisation").order_by("organisation__path", "kind")
    rows = [
        {"setting": s, "default_prefix": kinds_module.default_prefix(s.organisation, s.kind)
         if s.kind in kinds_module.KINDS else ""}
        for s in settings
    ]  # fmt: skip
    return render(request, "documents/settings.html", {"form": form, "rows": rows})


def register_panel_links() -> None:
    """The action panel's reply, review and recheck link to their document (``DocumentsConfig.ready``):
    the step is taken when the document is issued, never from the panel's own form."""
    from xinfang.workflow.actions import register_redirect

    for code, spec in kinds_module.KINDS.items():
        if spec.completes_step:
            register_redirect(spec.completes_step, step_link(code))
