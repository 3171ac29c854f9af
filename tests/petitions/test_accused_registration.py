"""The staff pages of issue #7 point 1: the clerk names the accused of a report (or states that it
names none) on the registration form, or later with the 确认被检举控告对象 action on the petition page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.petitions.models import Petition

from ..factories import register
from ..web.test_staff_views import form_data, login

pytestmark = pytest.mark.django_db


def test_the_registration_form_names_the_accused(client, world):
    login(client, world.intake_a)
    page = client.get(reverse("petitions:register")).content.decode()
    assert 'name="subject_organisation"' in page and 'name="no_subject_organisation"' in page
    data = form_data(
        world, purpose="report", subject_organisation=str(world.a.department.pk), subject_person="王某某"
    )
    assert client.post(reverse("petitions:register"), data).status_code == 302
    petition = Petition.objects.get()
    assert petition.subject_confirmed and petition.subject_organisation == world.a.department
    assert petition.subject_person == "王某某"
    detail = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="accused"' in detail and world.a.department.name in detail


def test_the_petition_page_offers_and_takes_name_subject(client, world):
    petition = register(world.a.office, None, world.a.township, purpose="report").petition  # the portal
    login(client, world.intake_a)
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="action-name_subject"' in page and "待登记员确认" in page
    assert 'id="action-assign"' not in page  # no routing before the accused is confirmed
    response = client.post(
        reverse("workflow:act", args=[petition.number, "name_subject"]),
        {"version": petition.version, "subject_organisation": world.a.government.pk},
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.subject_confirmed and petition.subject_organisation == world.a.government
    page = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert 'id="action-forward"' in page and 'id="action-accept"' not in page  # only up, now


def test_the_portal_names_the_accused_in_free_text_only(client, world):
    """The citizen describes whom the report accuses; the clerk confirms it before any routing."""
    from ..web.test_portal_views import submit

    number, _code = submit(client, world, purpose="report", subject_name="甲县人社局王局长")
    petition = Petition.objects.get(number=number)
    assert petition.subject_name == "甲县人社局王局长"
    assert petition.is_confidential and not petition.subject_confirmed
    assert petition.subject_organisation is None
