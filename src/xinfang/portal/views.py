"""Public portal pages: submit a petition, follow it.  No login; only public fields ever shown."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from xinfang.core.forms import add_service_errors
from xinfang.core.net import client_ip

from .forms import SubmitForm, TrackForm
from .services import Throttled, TrackingFailed, submit_public_petition, track_petition


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@never_cache
def submit(request: HttpRequest) -> HttpResponse:
    form = SubmitForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            registration = submit_public_petition(draft=form.to_draft(), ip=client_ip(request))
        except Throttled:
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        except ValidationError as exc:
            add_service_errors(form, exc, prefix_map={"petitioners.0.": form})
        else:
            # Shown once on the next page, never put in a URL (it would end up in logs and history).
            request.session["portal_receipt"] = {
                "number": registration.petition.number,
                "code": registration.query_code,
            }
            return redirect("portal:submitted")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/submit.html", {"form": form}, status=status)


@never_cache
def submitted(request: HttpRequest) -> HttpResponse:
    receipt = request.session.pop("portal_receipt", None)
    if not receipt:
        return redirect("portal:track")
    return render(request, "portal/submitted.html", {"receipt": receipt})


@never_cache
def track(request: HttpRequest) -> HttpResponse:
    """Follow a petition with its number and query code (POST, so the code stays out of URLs)."""
    form = TrackForm(request.POST or None)
    view, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            view = track_petition(
                number=form.cleaned_data["number"], code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except Throttled:
            form.add_error(None, _("查询失败次数过多，请15分钟后再试。"))
            status = 429
        except TrackingFailed:
            # One message for an unknown number and a wrong code: nothing is revealed.
            form.add_error(None, _("信访编号或查询码不正确。"))
            status = 404
    return render(request, "portal/track.html", {"form": form, "view": view}, status=status)
