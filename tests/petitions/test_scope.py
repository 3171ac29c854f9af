"""Who sees which petitions: ``Petition.objects.restrict`` and ``access_petition`` (access.py).

The rule (issue #2, point 3): casework staff see the petitions registered by, assigned to or
supervised by their organisation and its subtree; a petition office sees its whole level;
administrators, the anonymous and inactive accounts see nothing; a confidential report is hidden
from the organisation it is about and from everything inside it (条例 Art. 30 ¶3).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation, create_staff
from xinfang.petitions.access import PetitionNotFound, access_petition
from xinfang.petitions.models import Petition

from ..factories import PASSWORD, involve, make_staff, register

ACTIONS = ["view", "change"]


def visible(user, action: str = "view") -> set[str]:
    return set(Petition.objects.restrict(user, action).values_list("number", flat=True))


@pytest.fixture
def petition_b(world) -> Petition:
    return register(world.b.office, world.intake_b, world.b.township, title="乙县噪声扰民").petition


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("username", ["intake_a", "supervisor_a", "leader_a"])
def test_county_staff_see_their_county_petitions(world, petition_a, petition_b, username, action):
    """The office, supervisors and the government of county A see A's petitions, not B's."""
    # given a petition in each county
    user = getattr(world, username)

    # when county A staff list petitions
    numbers = visible(user, action)

    # then they see A's petition only
    assert numbers == {petition_a.number}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("username", ["intake_b", "handler_b"])
def test_other_county_cannot_read_list_count_or_search(world, petition_a, petition_b, username, action):
    """County B cannot read, list, count or search county A's petition by number or title."""
    # given a petition in each county, B's assigned to B's department
    user = getattr(world, username)
    involve(petition_b, world.b.department)
    qs = Petition.objects.restrict(user, action)

    # then listing, counting and searching never yield A's petition …
    assert petition_a.number not in set(qs.values_list("number", flat=True))
    assert qs.count() == 1  # … only B's own
    assert not qs.filter(number=petition_a.number).exists()
    assert not qs.filter(pk=petition_a.pk).exists()
    assert not qs.filter(title__icontains=petition_a.title[:4]).exists()
    assert not qs.filter(content__icontains="建筑工地").exclude(pk=petition_b.pk).exists()
    # … and reading it by number is refused
    with pytest.raises(PetitionNotFound):
        access_petition(user, petition_a.number, action)


def test_department_sees_petition_only_once_involved(world, petition_a):
    """A department sees a petition only from the moment it is made responsible unit for it."""
    # given a petition registered by county A's office and a second one never sent to the department
    other = register(world.a.office, world.intake_a, world.a.township, title="另一件").petition
    assert visible(world.handler_a) == set()
    with pytest.raises(PetitionNotFound):
        access_petition(world.handler_a, petition_a.number)

    # when the department becomes the responsible unit of the first one
    involve(petition_a, world.a.department, "unit")

    # then its staff see that petition and only that one; B's department still sees nothing
    assert visible(world.handler_a) == {petition_a.number}
    assert access_petition(world.handler_a, petition_a.number) == petition_a
    assert other.number not in visible(world.handler_a)
    assert visible(world.handler_b) == set()


def test_department_sees_petitions_of_units_inside_it(world, petition_a):
    """A unit inside a department is part of the department's subtree."""
    # given a unit of county A's department that is made responsible unit
    squad = create_organisation(
        name="甲县劳动保障监察大队",
        kind=OrganisationKind.DEPARTMENT,
        level=Level.COUNTY,
        parent=world.a.department,
    )
    squad_handler = make_staff("squad_handler", squad, "handler")
    involve(petition_a, squad, "unit")

    # then the unit and the department above it see the petition
    assert visible(squad_handler) == {petition_a.number}
    assert visible(world.handler_a) == {petition_a.number}


@pytest.mark.parametrize("role_place", ["city_office_supervisor", "city_leader", "city_office_intake"])
def test_city_sees_its_counties(world, petition_a, petition_b, role_place):
    """A city petition office and a city leader see the petitions of every county of the city."""
    # given a member of the city petition office or of the city government
    city_office = world.city_supervisor.organisation
    user = {
        "city_office_supervisor": lambda: world.city_supervisor,
        "city_leader": lambda: make_staff("city_leader", world.city, "leader"),
        "city_office_intake": lambda: make_staff("city_intake", city_office, "intake"),
    }[role_place]()

    # then both counties' petitions are visible
    assert visible(user) == {petition_a.number, petition_b.number}
    assert access_petition(user, petition_b.number) == petition_b


def test_leader_of_another_city_sees_nothing(world, petition_a):
    """Another city of the same province is outside the scope."""
    # given a leader of a second city
    city2 = create_organisation(
        name="B市", kind=OrganisationKind.GOVERNMENT, level=Level.CITY, parent=world.province, code="990200"
    )
    leader = make_staff("leader_b_city", city2, "leader")

    # then A's petition is invisible
    assert visible(leader) == set()


@pytest.mark.parametrize("username", ["sysadmin", "secadmin", "auditor"])
def test_administrators_see_no_petition(world, petition_a, petition_b, username):
    """The three administrator duties see no petition, although the province is above everything."""
    user = getattr(world, username)
    assert Petition.objects.restrict(user).count() == 0
    with pytest.raises(PetitionNotFound):
        access_petition(user, petition_a.number)


def test_administrator_inside_the_office_sees_nothing(world, petition_a):
    """An administrator account placed in the registering office itself still sees nothing."""
    admin = make_staff("office_sysadmin", world.a.office, "sysadmin")
    assert Petition.objects.restrict(admin).count() == 0


def test_anonymous_and_missing_user_see_nothing(world, petition_a):
    """Anonymous visitors and a missing user get an empty scope, never an error or everything."""
    for user in (AnonymousUser(), None):
        assert Petition.objects.restrict(user).count() == 0
        with pytest.raises(PetitionNotFound):
            access_petition(user, petition_a.number)


def test_inactive_user_sees_nothing(world, petition_a):
    """A deactivated account loses its scope at once, roles and organisation notwithstanding."""
    # given county A's clerk, who sees the petition
    assert visible(world.intake_a) == {petition_a.number}

    # when the account is deactivated
    world.intake_a.is_active = False
    world.intake_a.save(update_fields=["is_active"])

    # then the clerk sees nothing
    assert Petition.objects.restrict(world.intake_a).count() == 0
    with pytest.raises(PetitionNotFound):
        access_petition(world.intake_a, petition_a.number)


def test_staff_without_role_or_organisation_see_nothing(world, petition_a):
    """Scope needs both a casework role and an organisation."""
    no_role = make_staff("no_role", world.a.office)
    no_org = create_staff(
        username="no_org", password=PASSWORD, organisation=None, roles=["intake"], bootstrap=True
    )
    assert Petition.objects.restrict(no_role).count() == 0
    assert Petition.objects.restrict(no_org).count() == 0


def test_unknown_action_is_refused(world):
    """Only the actions that exist may be asked for; a typo must not fall back to some scope."""
    with pytest.raises(ValueError):
        Petition.objects.restrict(world.intake_a, "delete")


# --- confidential reports (检举控告) ------------------------------------------------------------


@pytest.fixture
def report_on_department(world) -> Petition:
    """A report (检举控告) against county A's department, registered by county A's office."""
    return register(
        world.a.office,
        world.intake_a,
        world.a.township,
        purpose="report",
        title="检举人社局工作人员吃拿卡要",
        subject_name="甲县人社局",
        subject_organisation_id=world.a.department.pk,
    ).petition


def test_report_is_confidential_from_registration(report_on_department):
    """A report is flagged confidential from the moment it is registered."""
    assert report_on_department.is_confidential is True


def test_report_invisible_to_the_reported_department_even_when_involved(world, report_on_department):
    """The department a report is about never sees it, even if it is (wrongly) made responsible unit."""
    # given the report routed to the very department it accuses
    involve(report_on_department, world.a.department, "unit")

    # then the department's staff can neither list nor read it
    assert visible(world.handler_a) == set()
    with pytest.raises(PetitionNotFound):
        access_petition(world.handler_a, report_on_department.number)


def test_report_invisible_inside_the_reported_department(world, report_on_department):
    """Units inside the reported department do not see the report either."""
    # given a unit inside the reported department, made responsible unit
    squad = create_organisation(
        name="甲县劳动保障监察大队",
        kind=OrganisationKind.DEPARTMENT,
        level=Level.COUNTY,
        parent=world.a.department,
    )
    squad_handler = make_staff("squad_handler", squad, "handler")
    involve(report_on_department, squad, "unit")

    # then its staff do not see the report
    assert visible(squad_handler) == set()
    with pytest.raises(PetitionNotFound):
        access_petition(squad_handler, report_on_department.number)


@pytest.mark.parametrize("username", ["intake_a", "supervisor_a", "leader_a", "city_supervisor"])
def test_report_visible_to_petition_offices_and_government(world, report_on_department, username):
    """The petition offices and the county government (above the department) see the report."""
    user = getattr(world, username)
    assert report_on_department.number in visible(user)
    assert access_petition(user, report_on_department.number) == report_on_department


def test_complaint_about_department_is_not_hidden_from_it(world):
    """Only reports are confidential: a complaint about the department reaches it when assigned."""
    # given a complaint (not a report) about the department, assigned to it
    complaint = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        purpose="complaint",
        subject_organisation_id=world.a.department.pk,
    ).petition
    involve(complaint, world.a.department, "unit")

    # then the department sees it
    assert complaint.is_confidential is False
    assert visible(world.handler_a) == {complaint.number}


def test_report_without_subject_organisation_is_visible_to_the_office(world):
    """A report naming no organisation is hidden from nobody in scope (NULL must not drop it)."""
    report = register(world.a.office, world.intake_a, world.a.township, purpose="report").petition
    assert report.is_confidential is True
    assert visible(world.intake_a) == {report.number}


# --- access_petition ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_access_petition_missing_and_forbidden_are_indistinguishable(world, petition_a, action):
    """A forbidden petition raises exactly what a missing one raises: no existence leak."""
    # given a number that exists (in county A) and one that does not
    missing_number = petition_a.number[:-6] + "999999"

    # when county B's clerk asks for either
    with pytest.raises(PetitionNotFound) as forbidden:
        access_petition(world.intake_b, petition_a.number, action)
    with pytest.raises(PetitionNotFound) as missing:
        access_petition(world.intake_b, missing_number, action)

    # then the two errors have the same type and shape, and neither chains the ORM's error
    assert type(forbidden.value) is type(missing.value) is PetitionNotFound
    assert forbidden.value.args == (petition_a.number,)
    assert missing.value.args == (missing_number,)
    for exc in (forbidden.value, missing.value):
        assert exc.__cause__ is None
        assert exc.__suppress_context__ is True
    # and the petition is returned to someone allowed to see it
    assert access_petition(world.intake_a, petition_a.number, action) == petition_a
