"""Staff pages of reception days: the clerk's day list (default: today), sessions, schedules,
bookings (mark arrived / no-show, register the visit as a petition) and outreach visits (下访、约访),
each list with XLSX export and an A4 print view.  Views parse input and call ``services``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.core.decorators import role_required
from xinfang.core.forms import add_service_errors
from xinfang.organisations.choices import CASEWORK_ROLES, RoleCode

from . import exports, services
from .forms import (
    CancelSessionForm,
    DayFilterForm,
    OutreachForm,
    ScheduleForm,
    SwapLeaderForm,
    VisitForm,
)
from .models import (
    HOLDING,
    BookingStatus,
    OutreachVisit,
    ReceptionBooking,
    ReceptionSchedule,
    ReceptionSession,
    SessionStatus,
)

PAGE_SIZE = 30
casework = role_required(*CASEWORK_ROLES)


def _refused(exc: services.ReceptionRefused) -> PermissionDenied:
    return PermissionDenied(str(exc))


# --- the day list --------------------------------------------------------------------------------


def _day(request: HttpRequest) -> tuple[DayFilterForm, dt.date]:
    form = DayFilterForm(request.GET or None)
    day = timezone.localdate()
    if form.is_valid() and form.cleaned_data["date"]:
        day = form.cleaned_data["date"]
    return form, day


def _day_sessions(user: Any, day: dt.date) -> list[ReceptionSession]:
    """The day's sessions in scope with their bookings (three queries whatever the number of rows)."""
    bookings = ReceptionBooking.objects.select_related("slot", "petition", "received_by").order_by(
        "slot__starts_at", "id"
    )
    return list(
        services.visible_sessions(user)
        .filter(date=day)
        .select_related("organisation", "leader")
        .prefetch_related(Prefetch("bookings", queryset=bookings))
        .order_by("start_time", "organisation__path", "id")
    )


@casework
def day(request: HttpRequest) -> HttpResponse:
    """今日接待: the sessions of a day (default today) and who is coming, with masked ID and phone."""
    form, when = _day(request)
    sessions = _day_sessions(request.user, when)
    if request.GET.get("export") == "xlsx":
        return exports.day_xlsx(sessions, day=when, user=request.user)
    return render(
        request,
        "reception/day.html",
        {
            "form": form,
            "day": when,
            "sessions": sessions,
            "today": timezone.localdate(),
            "previous": when - dt.timedelta(days=1),
            "next": when + dt.timedelta(days=1),
            # A day without sessions says where the next one is, so the clerk need not page day by day.
            "next_session": None if sessions else _next_session(request.user, when),
        },
    )


def _next_session(user: Any, after: dt.date) -> ReceptionSession | None:
    """The first scheduled session in scope after ``after`` (one indexed query)."""
    return (
        services.visible_sessions(user)
        .filter(date__gt=after, status=SessionStatus.SCHEDULED)
        .select_related("organisation")
        .order_by("date", "start_time", "id")
        .first()
    )


@casework
def day_print(request: HttpRequest) -> HttpResponse:
    _form, when = _day(request)
    sessions = _day_sessions(request.user, when)
    return render(
        request, "reception/day_print.html", {"day": when, "sessions": sessions, "now": timezone.now()}
    )


# --- sessions ------------------------------------------------------------------------------------


def _sessions_qs(request: HttpRequest) -> Any:
    qs = services.visible_sessions(request.user).select_related("organisation", "leader")
    if request.GET.get("mine"):
        qs = qs.filter(leader=request.user)
    if request.GET.get("all") != "1":
        qs = qs.filter(date__gte=timezone.localdate(), status=SessionStatus.SCHEDULED)
    return qs.annotate(booked_total=Sum("slots__booked")).order_by("date", "start_time", "id")


@casework
def sessions(request: HttpRequest) -> HttpResponse:
    """Reception days in scope: upcoming by default (``?all=1`` for every one, ``?mine=1`` for
    the leader's)."""
    qs = _sessions_qs(request)
    if request.GET.get("export") == "xlsx":
        return exports.sessions_xlsx(qs, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reception/sessions.html", {"page": page, "sessions": page.object_list})


def _session_or_404(request: HttpRequest, pk: int) -> ReceptionSession:
    session = (
        services.visible_sessions(request.user)
        .select_related("organisation", "leader", "schedule")
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404
    return session


def _session_page(request: HttpRequest, session: ReceptionSession, **forms: Any) -> HttpResponse:
    can_manage = services.may_manage(request.user, session.organisation_id)
    context = {
        "session": session,
        "slots": session.slots.order_by("starts_at"),
        "bookings": session.bookings.select_related("slot", "petition").order_by("slot__starts_at", "id"),
        "can_manage": can_manage and session.status == SessionStatus.SCHEDULED,
        "cancel_form": forms.get("cancel_form") or CancelSessionForm(),
        "swap_form": forms.get("swap_form")
        or SwapLeaderForm(organisation=session.organisation, initial={"title": session.leader_title}),
    }
    return render(request, "reception/session.html", context, status=400 if forms else 200)


@casework
def session(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, _session_or_404(request, pk))


@require_POST
@casework
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _session_or_404(request, pk)
    form = CancelSessionForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_session(user=request.user, session_id=obj.pk, reason=form.cleaned_data["reason"])
        except services.ReceptionRefused as exc:
            raise _refused(exc) from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("接待日已取消，已预约的群众将收到短信告知。"))
            return redirect("reception:session", pk=obj.pk)
    return _session_page(request, obj, cancel_form=form)


@require_POST
@casework
def session_swap(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _session_or_404(request, pk)
    form = SwapLeaderForm(request.POST, organisation=obj.organisation)
    if form.is_valid():
        try:
            services.swap_leader(
                user=request.user,
                session_id=obj.pk,
                leader_id=form.cleaned_data["leader"].pk,
                title=form.cleaned_data["title"],
            )
        except services.ReceptionRefused as exc:
            raise _refused(exc) from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已更换接待领导，新的接待领导已收到提醒；网上公开的接待日同步更新。"))
            return redirect("reception:session", pk=obj.pk)
    return _session_page(request, obj, swap_form=form)


# --- schedules -----------------------------------------------------------------------------------


@casework
def schedules(request: HttpRequest) -> HttpResponse:
    qs = (
        services.visible_schedules(request.user)
        .select_related("organisation")
        .prefetch_related("rota__leader")
        .order_by("organisation__path", "title", "id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reception/schedules.html",
        {
            "page": page,
            "schedules": page.object_list,
            "can_create": services.may_manage(request.user, request.user.organisation_id),
        },
    )


def _schedule_form_page(request: HttpRequest, schedule: ReceptionSchedule | None) -> HttpResponse:
    organisation = schedule.organisation if schedule else request.user.organisation
    if not services.may_manage(request.user, organisation.pk if organisation else None):
        raise PermissionDenied(_("只有本机构的登记员或督办员可以安排接待日。"))
    initial = ScheduleForm.initial_from(schedule) if schedule else None
    form = ScheduleForm(request.POST or None, initial=initial, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_schedule(
                user=request.user,
                organisation=organisation,
                schedule_id=schedule.pk if schedule else None,
                data=form.to_input(),
            )
        except services.ReceptionRefused as exc:
            raise _refused(exc) from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已保存。今后三个月的接待日已按规则生成{published}。").format(
                    published=_("，并在网上信访公开，群众可预约") if saved.published else _("（未公开）")
                ),
            )
            return redirect("reception:sessions")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "reception/schedule_form.html", {"form": form, "schedule": schedule}, status=status
    )


@casework
def schedule_new(request: HttpRequest) -> HttpResponse:
    return _schedule_form_page(request, None)


@casework
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = services.visible_schedules(request.user).select_related("organisation").filter(pk=pk).first()
    if schedule is None:
        raise Http404
    return _schedule_form_page(request, schedule)


# --- bookings ------------------------------------------------------------------------------------


def _booking_or_404(request: HttpRequest, pk: int) -> ReceptionBooking:
    booking = (
        services.visible_bookings(request.user)
        .select_related(
            "session__organisation", "session__leader", "slot", "petition", "received_by", "marked_by"
        )
        .filter(pk=pk)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


@casework
def booking(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _booking_or_404(request, pk)
    can_act = (
        services.may_manage(request.user, obj.session.organisation_id)
        and obj.status in HOLDING
        and not obj.petition_id
        and obj.session.date <= timezone.localdate()
    )
    # Registering is intake's (workflow.services.register); a supervisor may only mark attendance.
    can_register = can_act and request.user.has_role(RoleCode.INTAKE)
    return render(
        request, "reception/booking.html", {"booking": obj, "can_act": can_act, "can_register": can_register}
    )


@require_POST
@casework
def booking_mark(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _booking_or_404(request, pk)
    try:
        services.mark_booking(user=request.user, booking_id=obj.pk, status=request.POST.get("status", ""))
    except services.ReceptionRefused as exc:
        raise _refused(exc) from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        label = BookingStatus(request.POST["status"]).label
        messages.success(request, _("已标记为“{status}”。").format(status=label))
    return redirect(request.POST.get("next") or f"{_day_url(obj)}")


def _day_url(obj: ReceptionBooking) -> str:
    from django.urls import reverse

    return reverse("reception:day") + f"?date={obj.session.date.isoformat()}"


@casework
def booking_register(request: HttpRequest, pk: int) -> HttpResponse:
    """Register the visit as a petition (来访登记) with the receiving leader recorded on the booking."""
    obj = _booking_or_404(request, pk)
    if not services.may_manage(request.user, obj.session.organisation_id):
        raise PermissionDenied(_("只有本机构的登记员或督办员可以处理预约。"))
    initial = {"content": obj.description, "title": obj.description[:40]}
    form = VisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.register_visit(user=request.user, booking_id=obj.pk, data=form.to_input())
        except services.ReceptionRefused as exc:
            raise _refused(exc) from exc
        except PermissionError as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            add_service_errors(form, exc, prefix_map={"petitioners.0.": form})
        else:
            # The petition page shows the query code once, as after an ordinary registration.
            request.session["new_query_code"] = [registration.petition.number, registration.query_code]
            messages.success(
                request,
                _("已登记为信访事项{number}，接待领导{leader}已记录；请将查询码告知信访人。").format(
                    number=registration.petition.number, leader=obj.session.leader.full_name
                ),
            )
            return redirect("petitions:detail", number=registration.petition.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "reception/register.html", {"booking": obj, "form": form}, status=status)


# --- outreach visits -----------------------------------------------------------------------------


def _outreach_qs(request: HttpRequest) -> Any:
    qs = services.visible_outreach(request.user).select_related("organisation").prefetch_related("leaders")
    kind = request.GET.get("kind")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-date", "-id")


def _visible_petitions(user: Any) -> Prefetch:
    """A visit's petitions as the reader may see them: the print and the export list only those, like
    the visit's page (a visit down may concern a confidential report hidden from this reader)."""
    from xinfang.petitions.models import Petition

    return Prefetch(
        "petitions", queryset=Petition.objects.restrict(user).only("id", "number").order_by("number")
    )


@casework
def outreach_list(request: HttpRequest) -> HttpResponse:
    qs = _outreach_qs(request)
    if request.GET.get("export") == "xlsx":
        return exports.outreach_xlsx(
            qs.prefetch_related("staff", _visible_petitions(request.user)), user=request.user
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    from .models import OutreachKind

    return render(
        request,
        "reception/outreach_list.html",
        {
            "page": page,
            "visits": page.object_list,
            "kinds": OutreachKind.choices,
            "kind": request.GET.get("kind", ""),
        },
    )


@casework
def outreach_print(request: HttpRequest) -> HttpResponse:
    visits = list(
        _outreach_qs(request).prefetch_related("staff", _visible_petitions(request.user))[
            : exports.EXPORT_CAP
        ]
    )
    return render(request, "reception/outreach_print.html", {"visits": visits, "now": timezone.now()})


@casework
def outreach_new(request: HttpRequest) -> HttpResponse:
    form = OutreachForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.record_outreach(user=request.user, data=form.to_input())
        except services.ReceptionRefused as exc:
            raise _refused(exc) from exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已登记。涉及的信访事项可在本记录中查看。"))
            return redirect("reception:outreach", pk=visit.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "reception/outreach_form.html", {"form": form}, status=status)


@casework
def outreach(request: HttpRequest, pk: int) -> HttpResponse:
    visit = (
        services.visible_outreach(request.user)
        .select_related("organisation", "created_by")
        .prefetch_related("leaders", "staff")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    linked = visit.petitions.all()
    visible = list(linked.restrict(request.user).order_by("number").only("id", "number", "title", "status"))
    return render(
        request,
        "reception/outreach.html",
        {"visit": visit, "petitions": visible, "hidden_petitions": linked.count() - len(visible)},
    )


__all__ = ["OutreachVisit"]
