"""Demo records of the exchange app (issue #11), so a newcomer sees them after ``make demo``: three
cases referred to 青山县信访局 by "省信访局" (a peer pointing nowhere, disabled once they are in)
with the province's case numbers and deadlines — one past its deadline, one reported with its
issued 上级交办事项办理情况报告.

The referrals go through ``exchange.services.receive_referral`` as the province's system account
would call it, and the report through ``draft_report`` and ``issue_report`` (audit rows,
timeline, the document number).  Skipped when the peer has referrals already, so a rerun adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.utils import timezone

from xinfang.organisations.models import User
from xinfang.petitions.drafts import PetitionerDraft

from .tree import DemoTree

log = logging.getLogger(__name__)

PEER_NAME = "省信访局"
ACCOUNT = "province_link"
CASES = (
    # case number, title, content, category, days to the deadline, petitioner
    (
        "省信交〔2026〕101号",
        "某建筑公司拖欠农民工工资",
        "信访人反映在青山县某建筑工地务工，公司拖欠其三个月工资共计二万余元，多次讨要未果。",
        "0201",
        25,
        "周建华",
    ),
    (
        "省信交〔2026〕87号",
        "征地补偿款未足额发放",
        "信访人反映其承包地被征收后，补偿款至今未足额发放，请求依法落实补偿。",
        "0301",
        -3,
        "陈秀英",
    ),
    (
        "省信交〔2026〕64号",
        "小区供水长期不稳定",
        "信访人反映所在小区自今年夏季以来供水压力不足、经常停水，影响生活。",
        "0108",
        10,
        "刘志强",
    ),
)


def seed(tree: DemoTree) -> int:
    """Add the demo exchange records that are missing (a rerun adds nothing); return how many were made."""
    from xinfang.exchange import services
    from xinfang.exchange.models import Peer, Referral
    from xinfang.organisations.services import create_staff

    office = tree.county_1.office
    clerk = User.objects.filter(username="supervisor", is_active=True).first()
    if office is None or clerk is None:
        return 0
    peer = Peer.objects.filter(name=PEER_NAME).first()
    if peer is not None and Referral.objects.filter(peer=peer).exists():
        return 0
    account = User.objects.filter(username=ACCOUNT).first() or create_staff(
        username=ACCOUNT,
        password=secrets.token_urlsafe(24),
        organisation=office,
        roles=["intake"],
        full_name="省信访信息系统",
        is_system_account=True,
        bootstrap=True,
    )
    # Enabled while the referrals come in (the receiving service refuses a disabled peer), then
    # disabled: it points nowhere, so nothing is ever sent to it.
    peer, _created = Peer.objects.update_or_create(
        name=PEER_NAME,
        defaults={"base_url": "https://xinfang.province.invalid", "account": account, "is_enabled": True},
    )
    today = timezone.localdate()
    made = 0
    referrals = []
    for case, title, content, category, days, name in CASES:
        incoming = services.IncomingReferral(
            case_number=case,
            upper_organisation=PEER_NAME,
            title=title,
            content=content,
            purpose="complaint",
            category=category,
            locality=tree.county_1.area_code,
            due_on=today + dt.timedelta(days=days),
            report_required=True,
            petitioners=[PetitionerDraft(name=name)],
        )
        referral, created = services.receive_referral(user=account, incoming=incoming)
        referrals.append(referral)
        made += created
    Peer.objects.filter(pk=peer.pk).update(is_enabled=False)
    first = referrals[0]
    if first.status != "reported":
        report = services.draft_report(
            user=clerk,
            referral=first,
            process="接到交办后，县信访局会同县人社局约谈了该建筑公司负责人，核实了欠薪人数和金额。",
            result="该公司已于本月全额支付信访人被拖欠的工资，信访人表示满意。",
        )
        services.issue_report(user=clerk, report=report)
        made += 1
    log.info("exchange demo: %s records", made)
    return made
