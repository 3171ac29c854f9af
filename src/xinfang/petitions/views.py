"""Staff pages for petitions: the work queue, registration and the petition page.

Views parse input, call services and render; every read goes through ``restrict()``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core import page_memo
from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.core.pagination import QUEUE_COUNT_CAP, CappedPaginator
from xinfang.core.replica import stale_ok
from xinfang.organisations.choices import CASEWORK_ROLES, RoleCode
from xinfang.workflow import services as workflow
from xinfang.workflow.engine import may_change_key

from .access import PetitionNotFound, access_petition
from .attachments import open_plaintext
from .choices import Status
from .drafts import PetitionerDraft
from .filtersets import PetitionFilter, SearchRefused, highlight
from .forms import CategoryForm, PetitionerFormSet, PetitionForm, QueueFilterForm
from .models import Category, Petition, Petitioner, PetitionEvent, PetitionQuerySet
from .query_codes import REISSUE_ROLES, may_reissue, reissue_query_code
from .services import (
    find_possible_repeats,
    person_history,
    possible_repeats,
    record_view,
    reveal_personal_data,
    save_category,
)

QUEUE_PAGE_SIZE = 30
# Earlier petitions of a person, a page at a time (the registration look-up, the petition page).
REPEATS_PAGE_SIZE = 20


def _get_petition(request: HttpRequest, number: str) -> Petition:
    try:
        return access_petition(request.user, number)
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None


def open_assignments() -> Prefetch:
    """Prefetch of each petition's open assignment (at most one) with its unit, as
    ``open_assignments``: the handling unit (承办单位) of a list in one query whatever its length."""
    from xinfang.workflow.models import Assignment

    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(ended_at__isnull=True).select_related("unit"),
        to_attr="open_assignments",
    )


def handling_unit(petition: Petition) -> Any:
    """The body handling a listed petition: its open assignment's unit, else the registering office
    (as ``engine.handling_organisation``, but read from the ``open_assignments()`` prefetch)."""
    assignments = getattr(petition, "open_assignments", None)
    if assignments is None:
        from xinfang.workflow.engine import handling_organisation

        return handling_organisation(petition)
    return assignments[0].unit if assignments else petition.office


def queue_queryset(request: HttpRequest) -> tuple[QueueFilterForm, PetitionQuerySet]:
    """The queue's form and its filtered, restricted, ordered queryset for the request's GET
    parameters: the one source of the queue page and of its export, so both list the same rows.

    Open work only unless ``all`` or a status is asked for; ``overdue``, ``mine`` (handler = the
    caller) and ``section=<key>`` (a workbench section) narrow further.  An invalid form (a status
    that does not exist, a malformed date) lists the default: open work, soonest deadline first."""
    # The workbench (floor 5, like this view) defines the sections; imported here, not at the top,
    # so that loading the petitions app never loads the workbench's dependencies.
    from xinfang.workbench.sections import apply_section, get_section

    form = QueueFilterForm(request.GET or None)
    form.search_message = ""
    if form.is_valid():
        if get_section(form.cleaned_data["section"]) is None:
            form.cleaned_data["section"] = ""  # an unknown section is no section: open work, as usual
        flt = form.to_filter(request.user)
        section = form.cleaned_data["section"]
    else:
        flt, section = PetitionFilter(open_only=True), ""
    try:
        filtered = flt.apply(Petition.objects.restrict(request.user))
    except SearchRefused as exc:
        # A query too weak to search (single characters, common words) or a look-up the user may
        # not make: nothing is read, and the page says why.
        form.search_message = exc.message
        filtered = Petition.objects.none()
    qs = apply_section(section, filtered, request.user)
    return form, _with_queue_rows(qs)


def _with_queue_rows(qs: PetitionQuerySet) -> PetitionQuerySet:
    """``qs`` with what a queue row shows loaded up front (three statements for any page)."""
    joined = qs.select_related("category", "category__parent", "locality", "office", "handler")
    return joined.prefetch_related(
        Prefetch("petitioners", queryset=Petitioner.objects.only("id", "petition_id", "name")),
        open_assignments(),
    )


def _section_page(paginator: CappedPaginator, number: str | None) -> Any:
    """A page of a queue narrowed to a workbench section, by its ids first, then those rows.

    ``ORDER BY due_on LIMIT 30`` over a small section (a leader's 239 extension requests among a
    million petitions) made PostgreSQL walk the whole due-date index hoping to meet the section's
    rows early (2.4 s, docs/performance.md).  A section no larger than ``SORTED_SECTION_LIMIT`` is
    sorted instead, by the same order written as an expression the index cannot serve
    (``workbench.sections.SECTION_ORDER``: undated last, then id — the queue's ``due_on`` order);
    a larger one keeps the index walk, which meets its first rows at once.  The rows are then
    loaded with their joins by primary key, so the display joins never enter the section's plan."""
    from xinfang.workbench.sections import SECTION_ORDER, SORTED_SECTION_LIMIT

    qs = paginator.object_list
    if paginator.count <= SORTED_SECTION_LIMIT and paginator.count_exact:
        paginator.object_list = qs.order_by(*SECTION_ORDER)
    page = paginator.get_page(number)
    ids = list(page.object_list.prefetch_related(None).values_list("pk", flat=True))
    loaded = {p.pk: p for p in _with_queue_rows(Petition.objects.filter(pk__in=ids))} if ids else {}
    page.object_list = [loaded[pk] for pk in ids if pk in loaded]
    return page


@role_required(*CASEWORK_ROLES)
@stale_ok()
def queue(request: HttpRequest) -> HttpResponse:
    """The work queue: petitions of my organisation's scope, soonest deadline first."""
    form, qs = queue_queryset(request)
    q = (form.cleaned_data.get("q") or "").strip() if form.is_valid() else ""
    sort = (form.cleaned_data.get("sort") if form.is_valid() else "") or ("relevance" if q else "due_on")
    paginator = CappedPaginator(qs, QUEUE_PAGE_SIZE, cap=QUEUE_COUNT_CAP)
    if _section_label(form) and sort == "due_on":
        page = _section_page(paginator, request.GET.get("page"))
    else:
        page = paginator.read_page(request.GET.get("page"))
    for petition in page.object_list:
        petition.handling_unit = handling_unit(petition)
    highlight(page.object_list, q)  # search_title / search_snippet, when the search app is there
    return render(
        request,
        "petitions/queue.html",
        {"form": form, "page": page, "sort": sort, "section": _section_label(form)},
    )


def _section_label(form: QueueFilterForm) -> str:
    """The label of the workbench section the queue is narrowed to, for the heading; "" if none."""
    from xinfang.workbench.sections import get_section

    section = get_section(form.cleaned_data.get("section", "")) if form.is_valid() else None
    return str(section.label) if section is not None else ""


def _petitioner_drafts(formset) -> list[PetitionerDraft]:
    drafts = [f.to_draft() for f in formset.forms if f.is_valid()]
    for index, draft in enumerate(drafts):
        draft.is_representative = index > 0
    return drafts


@role_required(RoleCode.INTAKE)
def register(request: HttpRequest) -> HttpResponse:
    """Registration (登记).  Before saving, the clerk sees earlier petitions of the same petitioner
    and decides whether the new one repeats one of them."""
    office = request.user.organisation
    candidates: list[Petition] = []
    if request.method == "POST":
        form = PetitionForm(request.POST, request.FILES, office=request.user.organisation)
        formset = PetitionerFormSet(request.POST, prefix="p")
        if form.is_valid() and formset.is_valid():
            people = _petitioner_drafts(formset)
            # The clerk has decided once the repeat choice (shown with the candidates) is posted.
            decided = "repeat_choice" in request.POST
            if not decided:
                candidates = find_possible_repeats(request.user, people)
                for candidate in candidates:
                    candidate.standing, candidate.standing_note = repeat_standing(candidate)
            if candidates:
                messages.warning(
                    request, _("发现同一信访人的既往信访件，请确认是否为重复信访后再提交（附件需重新选择）。")
                )
            else:
                try:
                    registration = workflow.register(
                        draft=form.to_draft(
                            people,
                            form.cleaned_data["attachments"],
                            repeat_of=request.POST.get("repeat_choice", ""),
                        ),
                        office=office,
                        actor=request.user,
                    )
                except ValidationError as exc:
                    add_service_errors(
                        form, exc, prefix_map={f"petitioners.{i}.": f for i, f in enumerate(formset.forms)}
                    )
                except PermissionError as exc:
                    raise PermissionDenied(str(exc)) from exc
                else:
                    request.session["new_query_code"] = [
                        registration.petition.number,
                        registration.query_code,
                    ]
                    messages.success(
                        request, _("登记成功：{number}").format(number=registration.petition.number)
                    )
                    return redirect("petitions:detail", number=registration.petition.number)
    else:
        form = PetitionForm(office=request.user.organisation)
        formset = PetitionerFormSet(prefix="p")
    chosen = request.POST.get("repeat_choice", "") if request.method == "POST" else ""
    if request.method == "POST" and "repeat_choice" in request.POST and not candidates:
        # Refused for another field after the clerk had decided on the repeat: show the earlier
        # petitions again with that decision made, not an empty box (issue #7 points 31, 32).
        candidates = _candidates_with_choice(request.user, _petitioner_drafts(formset), chosen)
    return render(
        request,
        "petitions/register.html",
        {"form": form, "formset": formset, "candidates": candidates, "office": office, "chosen": chosen},
    )


def _candidates_with_choice(user: Any, people: list[PetitionerDraft], chosen: str) -> list[Petition]:
    """The newest earlier petitions of ``people``, with ``chosen`` among them even when it is older
    (and only when it is really one of theirs), each marked with its standing."""
    candidates = find_possible_repeats(user, people)
    if chosen and chosen not in {c.number for c in candidates}:
        candidates += list(possible_repeats(user, people).filter(number=chosen))
    for candidate in candidates:
        candidate.standing, candidate.standing_note = repeat_standing(candidate)
    return candidates


def repeat_standing(petition: Petition, today: dt.date | None = None) -> tuple[str, str]:
    """Whether an earlier petition bars a new one on the same facts and reasons, for the repeat
    look-up: ``("concluded", …)`` once concluded (Art. 36 ¶3), ``("in_handling", …)`` while it is
    handled within its time limit (Art. 19 ¶3), else ``("", "")``.  The clerk then links the new
    petition to it and uses 不再受理; the same test as ``workflow.services.refuse_repeat``, so what is
    marked here is what that action accepts."""
    if petition.status == Status.CONCLUDED:
        return "concluded", _("已终结，同一事实和理由不再受理")
    today = today or timezone.localdate()
    if workflow.handled_within_time_limit(petition, today):
        return "in_handling", _("正在办理中（第十九条第三款）")
    return "", ""


def _candidate_row(p: Petition, today: dt.date) -> dict[str, str]:
    standing, note = repeat_standing(p, today)
    return {
        "number": p.number,
        "title": p.title,
        "received_on": p.received_on.isoformat(),
        "status": p.get_status_display(),
        "office": p.office.name,
        "standing": standing,
        "standing_note": note,
    }


@role_required(RoleCode.INTAKE)
def repeat_candidates(request: HttpRequest) -> JsonResponse:
    """JSON for the registration form: earlier petitions of the person typed in so far, one page
    (``page``, 20 a page) of all of them with the total and whether more follow (issue #7 point 15).

    ``chosen``: the earlier petition the clerk has already picked as the one this repeats.  It comes
    back as ``chosen`` when it is still among this person's petitions (on whatever page), else
    ``chosen`` is null and the page tells the clerk the choice no longer applies (point 32): typing
    one more number must not silently undo the clerk's decision."""
    person = PetitionerDraft(
        name=request.GET.get("name", ""),
        id_number=request.GET.get("id_number", ""),
        phone=request.GET.get("phone", ""),
    )
    found = possible_repeats(request.user, [person])
    page = CappedPaginator(found, REPEATS_PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    chosen_number = request.GET.get("chosen", "").strip()
    chosen = found.filter(number=chosen_number).first() if chosen_number else None
    return JsonResponse(
        {
            "results": [_candidate_row(p, today) for p in page.object_list],
            "page": page.number,
            "has_next": page.has_next(),
            "count": page.paginator.count,
            "chosen": _candidate_row(chosen, today) if chosen is not None else None,
        }
    )


@role_required(*CASEWORK_ROLES)
def detail(request: HttpRequest, number: str) -> HttpResponse:
    """The petition page: details, petitioners (masked), attachments and the whole timeline.

    Authorised and loaded in one query with what every panel reads (issue #12 §3); the panels then
    share their answers about this petition for the request (``core.page_memo``)."""
    petitions = (
        Petition.objects.restrict(request.user)
        .select_related(
            "category",
            "category__parent",
            "locality",
            "office",
            "office__parent",  # the routing area (the action forms' units)
            "registered_by",
            "repeat_of",
            "subject_organisation",
            "handler",
        )
        .prefetch_related(
            "petitioners",
            "attachments",
            open_assignments(),
            Prefetch("events", queryset=PetitionEvent.objects.select_related("actor", "organisation")),
        )
    )
    # What the panels would ask one by one, asked here: may the user change it, and which panels
    # have nothing to show (core.page_memo's probes).
    petitions = page_memo.with_probes(petitions, request.user).annotate(
        _may_change=Exists(Petition.objects.restrict(request.user, "change").filter(pk=OuterRef("pk")))
    )
    petition = petitions.filter(number=number).first()
    if petition is None:
        raise Http404(_("信访事项不存在或无权查看。"))
    page_memo.enable(petition)
    page_memo.seed(petition, may_change_key(request.user), petition.__dict__.pop("_may_change"))
    # Opening the page shows personal data (names, masked numbers): logged, as every view of it is.
    record_view(user=request.user, petition=petition, via="web")
    new_code = request.session.pop("new_query_code", None)
    query_code = new_code[1] if new_code and new_code[0] == petition.number else None
    repeats = page_memo.remember(
        petition,
        "repeats",
        lambda: list(petition.repeats.restrict(request.user).only("number", "title", "received_on")[:20]),
    )
    # Every other petition of the same people, in pages (issue #7 point 15).
    history = CappedPaginator(person_history(request.user, petition), REPEATS_PAGE_SIZE).read_page(
        request.GET.get("history_page")
    )
    return render(
        request,
        "petitions/detail.html",
        {
            "petition": petition,
            "handling_unit": handling_unit(petition),
            "query_code": query_code,
            "may_reissue_code": may_reissue(request.user),
            "repeats": repeats,
            "history": history,
            "revealed": None,
        },
    )


@role_required(*CASEWORK_ROLES)
def print_view(request: HttpRequest, number: str) -> HttpResponse:
    """The petition page for printing: the facts, the content, the petitioners (masked), the
    attachments' names and the timeline's public notes; no navigation, buttons or internal comments."""
    petition = _get_petition(request, number)
    petition = (
        Petition.objects.select_related("category", "locality", "office", "handler")
        .prefetch_related(
            "petitioners", "attachments", open_assignments(),
            Prefetch("events", queryset=PetitionEvent.objects.select_related("organisation")),
        )
        .get(pk=petition.pk)
    )  # fmt: skip
    record_view(user=request.user, petition=petition, via="print")
    return render(
        request,
        "petitions/print.html",
        {"petition": petition, "handling_unit": handling_unit(petition), "printed_at": timezone.now()},
    )


@require_POST
@role_required(*CASEWORK_ROLES)
def reveal(request: HttpRequest, number: str) -> HttpResponse:
    """Show the full ID and phone numbers once, on request; the reveal is audited, and so is a
    refused one (the service checks the scope and records the attempt before the 404)."""
    try:
        revealed = reveal_personal_data(user=request.user, number=number)
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    petition = _get_petition(request, number)
    return render(request, "petitions/_revealed.html", {"petition": petition, "revealed": revealed})


@require_POST
@role_required(*REISSUE_ROLES)
def reissue_code(request: HttpRequest, number: str) -> HttpResponse:
    """Give the petitioner a new query code (the old one stops working, a locked number unlocks);
    the code is shown once on the petition page, as after registration (issue #7 point 29)."""
    try:
        code = reissue_query_code(
            user=request.user, number=number, identity_checked=request.POST.get("identity_checked") == "on"
        )
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("petitions:detail", number=number)
    request.session["new_query_code"] = [number, code]
    messages.success(request, _("已重新生成查询码，原查询码已失效。"))
    return redirect("petitions:detail", number=number)


@role_required(*CASEWORK_ROLES)
def attachment(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    """Download an attachment of a petition the user may see; audited like any personal data."""
    petition = _get_petition(request, number)
    item = get_object_or_404(petition.attachments, pk=attachment_id)
    record_event(
        actor=request.user, action="petition.attachment_download", obj=petition, data={"attachment": item.pk}
    )
    # Decrypted chunk by chunk as it is sent, never whole in memory (issue #7 point 24).
    response = FileResponse(
        open_plaintext(item.file),
        as_attachment=True,
        filename=item.original_name,
        content_type=item.content_type,
    )
    response["Content-Length"] = str(item.size)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(RoleCode.SYSADMIN)
def categories(request: HttpRequest) -> HttpResponse:
    """The issue-category tree, first-level classes each followed by their entries."""
    roots = Category.objects.filter(parent__isnull=True).prefetch_related(
        Prefetch("children", queryset=Category.objects.order_by("sort_order", "code"))
    )
    return render(request, "petitions/categories.html", {"roots": roots})


@role_required(RoleCode.SYSADMIN)
def category_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk) if pk else None
    initial = (
        {"name": category.name, "code": category.code, "parent": category.parent_id,
         "sort_order": category.sort_order, "is_active": category.is_active}
        if category else {"parent": request.GET.get("parent")}
    )  # fmt: skip
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            save_category(actor=request.user, category=category, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("petitions:categories")
    return render(request, "petitions/category_form.html", {"form": form, "category": category})
