"""Public pages of reception days: the published upcoming sessions (Art. 18: "公开了局长接访日"),
booking a slot (with the portal's CAPTCHA and per-address throttle) and cancelling with the
booking code and phone.  No login; only public fields (organisation, date, time, place, the
leader's name and title, free places).  The code is shown once, never put in a URL."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from xinfang.core.forms import add_service_errors
from xinfang.core.net import client_ip

from . import services
from .forms import BookingForm, CancelBookingForm

RECEIPT_KEY = "reception_receipt"


def schedule(request: HttpRequest) -> HttpResponse:
    """The published reception days to come, grouped by date, with free places (one query)."""
    sessions = list(services.public_sessions()[:200])
    for s in sessions:
        s.free = max(0, s.capacity - (s.booked_total or 0))
    return render(request, "reception/portal_list.html", {"sessions": sessions})


@never_cache
def book(request: HttpRequest, pk: int) -> HttpResponse:
    session = services.public_session(pk)
    if session is None:
        raise Http404
    form = BookingForm(request.POST or None, session=session)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            booked = services.book_slot(
                session_id=session.pk,
                slot_id=d["slot"].pk,
                name=d["name"],
                id_number=d["id_number"],
                phone=d["phone"],
                description=d["description"],
                ip=client_ip(request),
            )
        except services.Throttled:
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        except services.SlotFull:
            form.add_error("slot", str(services.SlotFull.message))
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 400
        else:
            # Shown once on the next page (post/redirect/get), never in a URL.
            request.session[RECEIPT_KEY] = {
                "code": booked.code,
                "organisation": session.organisation.name,
                "date": session.date.isoformat(),
                "slot": str(booked.booking.slot),
                "place": session.place,
                "leader": session.leader.full_name,
                "title": session.leader_title,
            }
            return redirect("reception_portal:booked")
    elif request.method == "POST":
        status = 400
    return render(request, "reception/portal_book.html", {"session": session, "form": form}, status=status)


@never_cache
def booked(request: HttpRequest) -> HttpResponse:
    receipt = request.session.pop(RECEIPT_KEY, None)
    if not receipt:
        return redirect("reception_portal:list")
    return render(request, "reception/portal_booked.html", {"receipt": receipt})


@never_cache
def cancel(request: HttpRequest) -> HttpResponse:
    form = CancelBookingForm(request.POST or None)
    status = 200
    done = None
    if request.method == "POST" and form.is_valid():
        try:
            done = services.cancel_booking(
                code=form.cleaned_data["code"], phone=form.cleaned_data["phone"], ip=client_ip(request)
            )
        except services.Throttled:
            form.add_error(None, _("尝试次数过多，请15分钟后再试。"))
            status = 429
        except services.BookingNotFound:
            form.add_error(None, str(services.BookingNotFound.message))
            status = 404
        else:
            form = CancelBookingForm()
    elif request.method == "POST":
        status = 400
    return render(request, "reception/portal_cancel.html", {"form": form, "done": done}, status=status)
