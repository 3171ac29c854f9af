"""The staff petition page: the routing proposal in the forward/assign forms, and the records after
the reply (evaluation, appeals, hearings, conclusion, recusals, the urgent flag)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import Category
from xinfang.workflow.models import RoutingRule

from ..factories import register

pytestmark = pytest.mark.django_db


def _page(client, user, petition) -> str:
    client.force_login(user)
    response = client.get(reverse("petitions:detail", args=[petition.number]))
    assert response.status_code == 200
    return response.content.decode()


def _selected_units(page: str, action: str) -> list[str]:
    """The pre-selected option of the unit select in one action's form."""
    form = page.split(f'id="action-{action}"', 1)[1].split("</details>", 1)[0]
    select = form.split('name="unit"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="(\d+)" selected>', select)


# --- routing proposal -------------------------------------------------------------------------


def test_forward_and_assign_preselect_the_rule_and_say_why(client, world):
    # given
    housing = create_organisation(
        name="甲县住建局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=world.a.government
    )
    RoutingRule.objects.create(
        area=world.a.government, category=Category.objects.get(code="0102"), unit=housing
    )
    category = Category.objects.get(code="0102")
    petition = register(world.a.office, world.intake_a, world.a.township, category_id=category.pk).petition
    # when
    page = _page(client, world.intake_a, petition)
    # then
    assert _selected_units(page, "forward") == [str(housing.pk)]
    assert _selected_units(page, "assign") == [str(housing.pk)]
    assert "建议：甲县住建局（分办规则：甲县人民政府·住房保障）" in page
    assert "诉访分离" not in page


def test_legal_category_offers_the_political_legal_organ_and_warns(client, world):
    """诉访分离: the city's 政法委 is outside the county office's area, yet offered and proposed."""
    # given
    organ = create_organisation(
        name="A市委政法委", kind=OrganisationKind.POLITICAL_LEGAL, level=Level.CITY, parent=world.city
    )
    category = Category.objects.get(code="0602")
    petition = register(world.a.office, world.intake_a, world.a.township, category_id=category.pk).petition
    # when
    page = _page(client, world.intake_a, petition)
    # then
    assert _selected_units(page, "forward") == [str(organ.pk)]
    assert "涉法涉诉事项应导入政法机关依法处理（诉访分离" in page
    assert "建议：A市委政法委" in page
    # and the office can forward there
    response = client.post(
        reverse("workflow:act", args=[petition.number, "forward"]),
        {"version": petition.version, "unit": organ.pk},
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "forwarded" and petition.assignments.get().unit == organ


def test_discipline_category_warns_even_without_an_organ(client, world):
    category = Category.objects.get(code="0701")
    petition = register(world.a.office, world.intake_a, world.a.township, category_id=category.pk).petition
    page = _page(client, world.intake_a, petition)
    assert "应转送纪检监察机关处理" in page
    assert _selected_units(page, "forward") == []
    assert "建议：" not in page


def test_no_proposal_work_for_a_user_who_cannot_route(client, world):
    """The unit's handler is offered no forward/assign, so no proposal is computed."""
    from xinfang.workflow import services

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    services.forward(user=world.intake_a, number=petition.number, unit=world.a.department)
    page = _page(client, world.handler_a, petition)
    assert 'id="action-forward"' not in page and "建议：" not in page
