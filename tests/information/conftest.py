"""Fixtures of the information tests: the world's county 甲 sends up to the city 信访局."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from xinfang.information import services
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation, User

from ..factories import make_staff


@dataclass
class Info:
    clerk: User  # intake clerk of 甲县信访局
    supervisor: User  # supervisor of 甲县信访局
    leader: User  # leader of 甲县人民政府 (the approver)
    city_office: Organisation
    city_clerk: User  # intake of A市信访局 (receiving)
    city_supervisor: User
    city_leader: User  # leader of A市人民政府
    outsider: User  # intake clerk of 乙县信访局: a third party


@pytest.fixture
def info(world) -> Info:
    city_office = Organisation.objects.get(parent=world.city, kind=OrganisationKind.PETITION_OFFICE)
    return Info(
        clerk=world.intake_a,
        supervisor=world.supervisor_a,
        leader=world.leader_a,
        city_office=city_office,
        city_clerk=make_staff("city_intake", city_office, "intake"),
        city_supervisor=world.city_supervisor,
        city_leader=make_staff("city_leader", world.city, "leader"),
        outsider=world.intake_b,
    )


def draft(user: User, **overrides):  # noqa: ANN201
    values = {
        "kind": "digest",
        "title": "某小区业主集体反映房产证办理问题",
        "body": "3月5日，某小区业主30余人到县信访局反映房产证迟迟未能办理。\n县住建局已派员现场答复。",
    }
    values.update(overrides)
    return services.create_draft(user=user, **values)


def sent(info: Info, **overrides):  # noqa: ANN201
    report = draft(info.clerk, **overrides)
    services.submit(user=info.clerk, report_id=report.pk)
    services.sign_off(user=info.leader, report_id=report.pk)
    report.refresh_from_db()
    if report.status != "sent":
        services.send(user=info.clerk, report_id=report.pk)
        report.refresh_from_db()
    return report
