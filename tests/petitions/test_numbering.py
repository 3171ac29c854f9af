"""Petition numbers: ``XF-<office code>-<year>-<seq:06d>``, gap-free per office and year.

See ``services.next_number``.

A number is taken inside the registering transaction, so a registration that fails — before or
after the number was allocated — gives it back.  Concurrency is in ``test_concurrency.py``.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from freezegun import freeze_time

from xinfang.audit import services as audit_services
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.models import NumberSequence, Petition
from xinfang.petitions.services import office_code

from ..factories import make_staff, register

NUMBER_RE = re.compile(r"^XF-(?P<code>[0-9A-Za-z]+)-(?P<year>\d{4})-(?P<seq>\d{6})$")


def last_issued(office, year: int) -> int | None:
    return NumberSequence.objects.filter(office=office, year=year).values_list("last", flat=True).first()


def test_number_format(world):
    """The number is XF-<code of the office's area>-<local year>-<six-digit sequence>."""
    # when county A's office registers its first petition
    petition = register(world.a.office, world.intake_a, world.a.township).petition

    # then the number has the documented shape, with the county's area code (the office has none)
    match = NUMBER_RE.match(petition.number)
    assert match, petition.number
    assert match["code"] == "990101"
    assert int(match["year"]) == timezone.localdate().year
    assert match["seq"] == "000001"
    assert petition.number == f"XF-990101-{timezone.localdate().year}-000001"


def test_office_code_prefers_own_code_then_nearest_ancestor_then_id(world):
    """An office's own code wins; else the nearest ancestor's; else its id."""
    # given an office with its own code, one under a coded area, and one under no code at all
    coded = create_organisation(
        name="甲县信访局接待中心",
        kind=OrganisationKind.PETITION_OFFICE,
        level=Level.COUNTY,
        parent=world.a.government,
        code="990101X",
    )
    root = create_organisation(name="无代码地区", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE)
    uncoded = create_organisation(
        name="无代码信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.PROVINCE, parent=root
    )

    # then
    assert office_code(coded) == "990101X"
    assert office_code(world.a.office) == "990101"  # its county, not the city or the province
    assert office_code(world.city_supervisor.organisation) == "990100"
    assert office_code(uncoded) == str(uncoded.pk)


def test_numbers_are_sequential_and_gap_free(world):
    """Successive registrations of one office get 1, 2, 3 … with no gap."""
    # when county A registers three petitions
    numbers = [register(world.a.office, world.intake_a, world.a.township).petition.number for _ in range(3)]

    # then the sequence runs 1, 2, 3 and the counter stands at 3
    year = timezone.localdate().year
    assert numbers == [f"XF-990101-{year}-{seq:06d}" for seq in (1, 2, 3)]
    assert last_issued(world.a.office, year) == 3


def test_each_office_has_its_own_sequence(world):
    """County B's numbers start at 1 whatever county A has issued."""
    # given two petitions registered in county A
    for _ in range(2):
        register(world.a.office, world.intake_a, world.a.township)

    # when county B registers its first one
    number_b = register(world.b.office, world.intake_b, world.b.township).petition.number

    # then it is B's number 1, and A's counter is untouched by it
    year = timezone.localdate().year
    assert number_b == f"XF-990102-{year}-000001"
    assert last_issued(world.a.office, year) == 2
    assert last_issued(world.b.office, year) == 1


@pytest.mark.parametrize("kind", [OrganisationKind.PETITION_OFFICE, OrganisationKind.DEPARTMENT])
def test_two_registering_organisations_of_one_area_never_clash(world, kind):
    """Two organisations of one area, neither with a code of its own, issue distinct numbers.

    Both inherit the county's code; ``Petition.number`` is unique, so a clash refuses the second
    registration with a database error instead of numbering it.
    """
    # given a second organisation of county A that registers petitions and has no code of its own
    second = create_organisation(
        name="甲县第二登记点", kind=kind, level=Level.COUNTY, parent=world.a.government
    )
    clerk2 = make_staff("intake_a2", second, "intake")
    first = register(world.a.office, world.intake_a, world.a.township).petition

    # when the second organisation registers its first petition
    try:
        other = register(second, clerk2, world.a.township).petition
    except Exception as exc:  # the IntegrityError on the unique number is what this test guards
        pytest.fail(f"second office could not register: {exc!r}")

    # then the two numbers differ
    assert first.number != other.number


def test_sequence_restarts_each_local_year(world):
    """The sequence restarts on 1 January, local time (Asia/Shanghai), not UTC."""
    # given a petition registered at 23:59 on 31 December 2031, Beijing time
    with freeze_time("2031-12-31T15:59:00Z"):
        last_of_year = register(world.a.office, world.intake_a, world.a.township).petition
    # when the next one is registered one minute later, still 31 December in UTC
    with freeze_time("2031-12-31T16:00:00Z"):
        first_of_year = register(world.a.office, world.intake_a, world.a.township).petition

    # then the new year has begun its own sequence
    assert last_of_year.number == "XF-990101-2031-000001"
    assert first_of_year.number == "XF-990101-2032-000001"
    assert last_issued(world.a.office, 2031) == 1
    assert last_issued(world.a.office, 2032) == 1


def test_refused_draft_consumes_no_number(world):
    """A draft refused by validation (before allocation) leaves the sequence as it was."""
    # given one registered petition
    register(world.a.office, world.intake_a, world.a.township)
    year = timezone.localdate().year

    # when a draft with an empty title is refused
    with pytest.raises(ValidationError):
        register(world.a.office, world.intake_a, world.a.township, title="")

    # then the counter is unchanged and the next petition gets number 2
    assert last_issued(world.a.office, year) == 1
    assert register(world.a.office, world.intake_a, world.a.township).petition.number.endswith("-000002")


@pytest.mark.parametrize(
    "failure",
    [
        ValidationError({"petitioners": ["模拟：保存信访人时校验失败"]}),
        RuntimeError("simulated crash after the number was taken"),
    ],
    ids=["validation-error", "exception"],
)
@pytest.mark.parametrize("first_of_year", [True, False], ids=["first-of-year", "later"])
def test_failure_after_allocation_gives_the_number_back(world, monkeypatch, failure, first_of_year):
    """A registration that fails inside its transaction, after taking a number, returns it."""
    # given an office that has issued 0 or 1 numbers this year
    year = timezone.localdate().year
    if not first_of_year:
        register(world.a.office, world.intake_a, world.a.township)
    issued_before = last_issued(world.a.office, year)
    petitions_before = Petition.objects.count()

    # when the last step of the transaction, chaining the audit event, fails after the number was
    # taken (the number is the last write before it: docs/architecture.md, "Numbering")
    def fail(*args, **kwargs):
        assert last_issued(world.a.office, year) == (issued_before or 0) + 1  # the number was taken
        raise failure

    monkeypatch.setattr(audit_services, "append_many", fail)
    with pytest.raises(type(failure)):
        register(world.a.office, world.intake_a, world.a.township)
    monkeypatch.undo()

    # then the counter is back where it was and the next registration takes the same number
    assert last_issued(world.a.office, year) == issued_before
    assert Petition.objects.count() == petitions_before
    expected_seq = (issued_before or 0) + 1
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    assert number == f"XF-990101-{year}-{expected_seq:06d}"
