"""Shared fixtures: two counties in one city, with staff of every casework role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation, User
from xinfang.organisations.services import create_organisation

from .factories import County, make_county, make_staff


@dataclass
class World:
    province: Organisation
    city: Organisation
    a: County
    b: County
    intake_a: User
    handler_a: User
    supervisor_a: User
    leader_a: User
    handler_b: User
    intake_b: User
    city_supervisor: User
    sysadmin: User
    secadmin: User
    auditor: User


@pytest.fixture
def world(db) -> World:
    province = create_organisation(
        name="西地省", kind=OrganisationKind.GOVERNMENT, level=Level.PROVINCE, code="990000"
    )
    city = create_organisation(
        name="A市", kind=OrganisationKind.GOVERNMENT, level=Level.CITY, parent=province, code="990100"
    )
    city_office = create_organisation(
        name="A市信访局", kind=OrganisationKind.PETITION_OFFICE, level=Level.CITY, parent=city
    )
    a = make_county("甲县", "990101", city)
    b = make_county("乙县", "990102", city)
    return World(
        province=province,
        city=city,
        a=a,
        b=b,
        intake_a=make_staff("intake_a", a.office, "intake"),
        handler_a=make_staff("handler_a", a.department, "handler"),
        supervisor_a=make_staff("supervisor_a", a.office, "supervisor"),
        leader_a=make_staff("leader_a", a.government, "leader"),
        handler_b=make_staff("handler_b", b.department, "handler"),
        intake_b=make_staff("intake_b", b.office, "intake"),
        city_supervisor=make_staff("city_supervisor", city_office, "supervisor"),
        sysadmin=make_staff("sysadmin", province, "sysadmin"),
        secadmin=make_staff("secadmin", province, "secadmin"),
        auditor=make_staff("auditor", province, "auditor"),
    )
