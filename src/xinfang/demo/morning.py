"""What ``make demo`` adds after the bulk petitions, on every run: the routing rules of the demo
areas, a working morning for each demo account, and an open petition to try on the portal.

Everything here goes through the real services (routing rules through ``save_routing_rule``, the
query code through ``reissue_query_code``), so the rows, the audit events and the checks are the
ones staff would produce.  Each part is idempotent: a second run tops up what is missing and adds no
duplicates; only the portal sample's query code is new each time (a code is shown once; the seed
must print one that works).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from xinfang.organisations.models import Organisation, User
from xinfang.petitions.choices import Channel, Purpose, Status
from xinfang.petitions.models import Category, Petition
from xinfang.petitions.query_codes import reissue_query_code
from xinfang.workflow import services
from xinfang.workflow.calendar import add_working_days, is_working_day
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import Assignment, ExtensionDecision, ExtensionRequest, RoutingRule, Step
from xinfang.workflow.routing import save_routing_rule

from .drive import DRIVE_UNIT as DEMO_UNIT
from .tree import Area, DemoTree

# 谁主管、谁负责: which department of an area answers for each class of matter (first-level
# class), and the entries that go elsewhere than their class.  政法 and 纪检监察 are absent on
# purpose: the routing proposal sends them to the political-legal and discipline channels itself.
CLASS_RULES: tuple[tuple[str, str], ...] = (
    ("城乡建设", "住建局"),
    ("劳动和社会保障", "人社局"),
    ("国土资源", "自然资源局"),
    ("农业农村", "农业农村局"),
    ("民政", "民政局"),
    ("卫生健康", "卫健局"),
    ("交通运输", "交通运输局"),
    ("生态环境", "生态环境局"),
    ("教育", "教育局"),
    ("商贸旅游", "市场监管局"),
)
ENTRY_RULES: tuple[tuple[str, str, str], ...] = (
    ("民政", "退役军人待遇", "退役军人事务局"),
    ("民政", "优抚安置", "退役军人事务局"),
    ("农业农村", "农村饮水", "水利局"),
    ("卫生健康", "食品药品安全", "市场监管局"),
    ("国土资源", "宅基地", "农业农村局"),
)

# The petition the seed prints for the portal: open, of county 1, in handling by the demo
# handler's unit if possible (the portal then shows the forward and the acceptance).
TRY_STATUSES = (Status.ACCEPTED, Status.FORWARDED, Status.ASSIGNED, Status.REGISTERED)


def routing_rule_specs(area: Area) -> list[tuple[Category, Organisation]]:
    """The (category, unit) rules for ``area``: one per class and the exceptions per entry, for
    the departments the area has (a small county lacks some)."""
    heads = {c.name: c for c in Category.objects.filter(parent__isnull=True)}
    children = Category.objects.filter(parent__isnull=False).select_related("parent")
    entries = {(c.parent.name, c.name): c for c in children}
    specs: list[tuple[Category, Organisation]] = []
    for head, department in CLASS_RULES:
        unit = area.departments.get(department)
        if unit is not None and head in heads:
            specs.append((heads[head], unit))
    for head, entry, department in ENTRY_RULES:
        unit = area.departments.get(department)
        if unit is not None and (head, entry) in entries:
            specs.append((entries[(head, entry)], unit))
    return specs


def ensure_routing_rules(tree: DemoTree, actor: User | None) -> int:
    """Routing rules for every city and county of the demo tree; returns how many were added.

    A rule already present for an area and category is left as it is (an administrator may have
    changed it since the last seed)."""
    added = 0
    for area in [*tree.cities, *tree.counties]:
        present = set(RoutingRule.objects.filter(area=area.government).values_list("category_id", flat=True))
        for category, unit in routing_rule_specs(area):
            if category.pk in present or not unit.is_active:
                continue
            save_routing_rule(actor=actor, area=area.government, category=category, unit=unit)
            added += 1
    return added


@dataclass(frozen=True)
class PortalSample:
    """An open petition and a query code that works now, for the newcomer to try on the portal."""

    number: str
    query_code: str
    status: str


def portal_sample(tree: DemoTree) -> PortalSample | None:
    """Pick an open petition of county 1 and give it a fresh query code, as the office's clerk
    does at the counter (``reissue_query_code``, audited); None without the demo clerk account.

    Reissuing is the only way to print a working code on a second run: codes are stored hashed."""
    office = tree.county_1.office
    clerk = User.objects.filter(username="intake", is_active=True, organisation=office).first()
    if office is None or clerk is None:
        return None
    preference = Case(
        *(When(status=status, then=Value(i)) for i, status in enumerate(TRY_STATUSES)),
        output_field=IntegerField(),
    )
    petition = (
        Petition.objects.filter(office=office, status__in=TRY_STATUSES)
        .exclude(purpose=Purpose.REPORT)  # a report's page says little to a newcomer
        .annotate(preference=preference)
        .order_by("preference", "-registered_at")
        .first()
    )
    if petition is None:
        return None
    code = reissue_query_code(user=clerk, number=petition.number, identity_checked=True)
    return PortalSample(petition.number, code, petition.get_status_display())


# --- the demo morning (issue #8 §6) --------------------------------------------------------------
#
# After the bulk load each demo account must open a workbench with work in it, as on a real
# morning: new assignments for the county's 人社局, petitions the office registered this morning,
# an extension waiting for the county leader, petitions due within 3 working days and two overdue,
# a listed supervision (挂牌督办) from the city on a county petition with the unit's answer to a
# county 督办 waiting for review, and unread notifications.  Every item is made by the services the
# staff use (registration, forward, acceptance, extension, supervision, notify), so the rows, the
# timeline, the audit events and the notifications are real; items whose dates must lie in the past
# are made with the clock set back (freezegun, as drive.py does).  Each part tops up to its number:
# a second run finds them and adds nothing.

MORNING_NEW = 3  # forwarded to the unit this morning, not yet accepted (新交办)
MORNING_TO_DISPOSE = 2  # registered at the office this morning (待处置)
MORNING_DUE_SOON = 2  # the unit's handling period ends within 3 working days (即将到期)
MORNING_OVERDUE = 2  # the unit's handling period has passed (已超期)

# 人社局 matters, as people bring them to the county office: (title, content, entry of 劳动和社会保障).
MORNING_MATTERS: tuple[tuple[str, str, str], ...] = (
    ("反映某建筑公司拖欠农民工工资", "我们十二名农民工在城南安置小区工地干了八个月，包工头和公司互相推诿，"
     "至今拖欠工资共计二十六万元，年底将至，请求帮助追讨。", "拖欠工资"),
    ("请求核实养老保险缴费年限", "本人在县农机厂工作十五年，企业改制后社保记录缺失六年，"
     "办理退休时无法足额计算缴费年限，请求核实并补记。", "养老保险"),
    ("工伤认定申请超期未答复", "本人今年五月在厂内作业时右手受伤，单位已提交工伤认定申请，"
     "至今未收到认定结论，影响后续治疗费用报销。", "工伤认定"),
    ("反映企业未依法缴纳社会保险", "所在食品公司入职一年多未给员工缴纳社会保险，"
     "多次向公司反映没有结果，请求责令补缴。", "社会保险"),
    ("解除劳动合同未支付经济补偿", "公司以经营困难为由口头通知解除劳动合同，未支付任何经济补偿，"
     "请求协调处理。", "劳动关系"),
    ("灵活就业人员社保补贴未到账", "本人按政策申请了灵活就业人员社会保险补贴，已审核通过，"
     "但半年过去补贴仍未发放，请求查明原因。", "就业创业"),
    ("反映劳务派遣公司克扣工资", "劳务派遣公司每月以管理费名义扣减工资三百元，"
     "合同中并无约定，请求依法处理并退还。", "拖欠工资"),
    ("退休人员养老金计发有误", "本人今年退休，核定的基本养老金比同期同工龄人员少四百余元，"
     "怀疑视同缴费年限计算有误，请求复核。", "养老保险"),
)  # fmt: skip
EXTENSION_REASONS = "需调取企业近三年工资台账并委托审计，现场核查和会商需要时间。"
SUPERVISION_REQUIREMENTS = "该事项已超过办理期限，请于反馈期限前查明原因、落实责任人，报送办理进展和结果。"
LISTED_REQUIREMENTS = (
    "该事项群众反映强烈、已超期未办结，市信访局予以挂牌督办：请县人社局主要负责同志牵头，"
    "五个工作日内报送办理方案，办结后报送结果。"
)
ANSWER_TEXT = (
    "已成立工作专班，约谈用工企业负责人，拖欠工资已落实分期支付计划，首期款项本周内发放，办结后即报结果。"
)


@dataclass
class Morning:
    """What ``prepare_morning`` did (for the seed's output and the tests)."""

    created: dict[str, int]
    notified: int = 0
    skipped: str = ""  # why the morning was not prepared (no demo accounts, no freezegun)


def _actors() -> dict[str, User] | None:
    from .drive import ACTOR_NAMES

    names = (*ACTOR_NAMES, "city_leader")
    users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    return users if set(users) == set(names) else None


class _MorningMaker:
    def __init__(self, tree: DemoTree, actors: dict[str, User], today: dt.date) -> None:
        from .people import make_person

        self.tree, self.a, self.today = tree, actors, today
        self.county = tree.county_1
        self.office = self.county.office
        self.unit = self.county.departments[DEMO_UNIT]
        self.rng = random.Random(today.toordinal())
        self.make_person = make_person
        self.entries = {
            c.name: c for c in Category.objects.filter(parent__name="劳动和社会保障", is_active=True)
        }
        self.created: dict[str, int] = {}
        self.matter = 0

    # --- building blocks ---------------------------------------------------------------------

    def register(self, received_on: dt.date, channel: str = Channel.VISIT) -> str:
        """Register one of the 人社局 matters at the county office (the demo clerk)."""
        from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft
        from xinfang.workflow.services import register

        from .people import make_id_number

        title, content, entry = MORNING_MATTERS[self.matter % len(MORNING_MATTERS)]
        self.matter += 1
        category = self.entries.get(entry) or next(iter(self.entries.values()))
        township = self.county.townships[self.matter % len(self.county.townships)]
        person = self.make_person(
            self.rng, region=self.county.government.code, area_code=self.county.area_code,
            place=township.name, today=self.today,
        )  # fmt: skip
        # At the counter the clerk takes both: an ID number and a mobile number (the bulk people
        # sometimes lack one; the registration service would accept that, the demo should not).
        region = self.county.government.code
        id_number = person.id_number or make_id_number(self.rng, region, today=self.today)[0]
        phone = person.phone if person.phone and person.phone.startswith("1") else f"139{self.matter:08d}"
        draft = PetitionDraft(
            channel=channel, purpose=Purpose.REQUEST, title=title, content=content,
            category_id=category.pk, locality_id=township.pk, received_on=received_on,
            petitioners=[PetitionerDraft(name=person.name, id_number=id_number, phone=phone,
                                         address=person.address)],
        )  # fmt: skip
        # Through the workflow's register, as the intake page does: the disposal clock and its
        # deadline record start with it.
        registration = register(draft=draft, office=self.office, actor=self.a["intake"])
        return registration.petition.number

    def accepted_on(self, day: dt.date) -> str:
        """A matter registered, forwarded to the unit and accepted by it on ``day`` (clock set back),
        with the demo handler named as its handler."""
        from freezegun import freeze_time

        # Mid-morning, local time (an aware moment: freezegun keeps it in UTC).
        with freeze_time(dt.datetime.combine(day, dt.time(10, 30), tzinfo=timezone.get_current_timezone())):
            number = self.register(day)
            services.forward(user=self.a["intake"], number=number, unit=self.unit)
            services.unit_accept(user=self.a["handler"], number=number)
            services.assign_handler(user=self.a["handler"], number=number, staff="handler")
        return number

    def day_giving(self, low: dt.date, high: dt.date) -> dt.date | None:
        """The latest past day on which accepting a matter gives a handling deadline in [low, high]."""
        for back in range(1, 200):
            day = self.today - dt.timedelta(days=back)
            if not is_working_day(day):
                continue
            due_on = due_date(Step.HANDLING, day, self.unit).due_on
            if low <= due_on <= high:
                return day
            if due_on < low:
                return None
        return None

    def handling(self) -> Any:
        """The unit's petitions in handling (accepted, assignment open to it)."""
        return Petition.objects.filter(
            office=self.office,
            status=Status.ACCEPTED,
            pk__in=Assignment.objects.filter(unit=self.unit, ended_at__isnull=True).values("petition_id"),
        )

    def count(self, key: str, n: int) -> None:
        self.created[key] = self.created.get(key, 0) + n

    # --- the parts ---------------------------------------------------------------------------

    def new_assignments(self) -> None:
        waiting = Petition.objects.filter(
            office=self.office, status__in=[Status.FORWARDED, Status.ASSIGNED],
            pk__in=Assignment.objects.filter(unit=self.unit, ended_at__isnull=True).values("petition_id"),
            registered_at__date=self.today,
        ).count()  # fmt: skip
        for _i in range(max(0, MORNING_NEW - waiting)):
            number = self.register(self.today)
            services.forward(user=self.a["intake"], number=number, unit=self.unit, comment="请按期确认受理。")
            self.count("new", 1)

    def to_dispose(self) -> None:
        waiting = Petition.objects.filter(
            office=self.office, status=Status.REGISTERED, registered_at__date=self.today
        ).count()
        for i in range(max(0, MORNING_TO_DISPOSE - waiting)):
            self.register(self.today, Channel.LETTER if i % 2 else Channel.VISIT)
            self.count("dispose", 1)

    def due_soon(self) -> None:
        limit = add_working_days(self.today, 3)
        present = self.handling().filter(due_on__gte=self.today, due_on__lte=limit).count()
        missing = max(0, MORNING_DUE_SOON - present)
        day = self.day_giving(add_working_days(self.today, 1), limit) if missing else None
        for _i in range(missing if day else 0):
            self.accepted_on(day)
            self.count("due_soon", 1)

    def overdue(self) -> list[str]:
        late = self.handling().filter(due_on__lt=self.today).order_by("due_on", "pk")
        missing = max(0, MORNING_OVERDUE - late.count())
        day = self.day_giving(self.today - dt.timedelta(days=12), self.today - dt.timedelta(days=3))
        for _i in range(missing if day else 0):
            self.accepted_on(day)
            self.count("overdue", 1)
        return list(late.values_list("number", flat=True)[:MORNING_OVERDUE])

    def extension(self) -> None:
        pending = ExtensionRequest.objects.filter(
            decision=ExtensionDecision.PENDING, organisation=self.unit, petition__office=self.office
        )
        if pending.exists():
            return
        used = ExtensionRequest.objects.exclude(decision=ExtensionDecision.REJECTED).values("petition_id")
        limit = add_working_days(self.today, 3)
        candidate = (
            self.handling().filter(due_on__gt=limit).exclude(pk__in=used)
            .order_by("due_on", "pk").first()
        )  # fmt: skip
        if candidate is None:
            day = self.day_giving(self.today + dt.timedelta(days=10), self.today + dt.timedelta(days=30))
            if day is None:
                return
            number = self.accepted_on(day)
        else:
            number = candidate.number
        services.request_extension(user=self.a["handler"], number=number, days=15, reasons=EXTENSION_REASONS)
        self.count("extension", 1)

    def supervision(self, overdue: list[str]) -> None:
        """The city lists the first overdue petition (挂牌督办, published); the county office
        formally supervises the second, and the unit has answered it (waiting for review)."""
        from xinfang.supervision.models import NoticeKind, NoticeStatus, SupervisionNotice
        from xinfang.supervision.services import answer_supervision, supervise

        city_office = self.tree.cities[0].office
        live = SupervisionNotice.objects.exclude(status__in=[NoticeStatus.LIFTED, NoticeStatus.ACCEPTED])
        if overdue and not live.filter(office=city_office, kind=NoticeKind.LISTED,
                                       petition__office=self.office).exists():  # fmt: skip
            target = next((n for n in overdue if not live.filter(petition__number=n).exists()), None)
            if target is not None:
                supervise(
                    user=self.a["city_supervisor"], number=target, kind=NoticeKind.LISTED,
                    requirements=LISTED_REQUIREMENTS, respond_by=add_working_days(self.today, 5),
                    leader=self.a["city_leader"], published=True,
                )  # fmt: skip
                self.count("listed", 1)
        if len(overdue) > 1 and not live.filter(office=self.office, petition__office=self.office).exists():
            target = next((n for n in overdue if not live.filter(petition__number=n).exists()), None)
            if target is not None:
                supervise(
                    user=self.a["supervisor"], number=target, kind=NoticeKind.FORMAL,
                    requirements=SUPERVISION_REQUIREMENTS, respond_by=add_working_days(self.today, 3),
                )  # fmt: skip
                answer_supervision(user=self.a["handler"], number=target, text=ANSWER_TEXT)
                self.count("supervision", 1)

    def digest(self) -> int:
        """An unread morning note for each casework demo account: its workbench counts (one per
        day, by dedupe key), beside the notifications the services sent."""
        from xinfang.notifications.services import notify
        from xinfang.workbench.sections import section_counts

        sent = 0
        for name in ("intake", "handler", "supervisor", "leader", "city_supervisor", "handler_b"):
            user = User.objects.filter(username=name, is_active=True).select_related("organisation").first()
            if user is None:
                continue
            counts = section_counts(user, self.today)
            parts = [f"{section.label}{count}件" for section, count in counts if count]
            if not parts:
                continue
            sent += notify(
                [user], kind="workbench.digest", title=gettext("今日待办：") + "，".join(parts[:4]),
                body=gettext("打开工作台查看每一类的清单和期限。"), url="/staff/home/",
                dedupe_key=f"demo-morning:{self.today.isoformat()}",
            )  # fmt: skip
        return sent


def prepare_morning(tree: DemoTree, today: dt.date | None = None) -> Morning:
    """Top up the demo morning (see above); nothing without the demo accounts or freezegun."""
    from .drive import can_drive

    actors = _actors()
    if actors is None:
        return Morning(created={}, skipped="no demo accounts")
    if not can_drive():
        return Morning(created={}, skipped="freezegun is not installed")
    maker = _MorningMaker(tree, actors, today or timezone.localdate())
    with transaction.atomic():
        maker.to_dispose()
        maker.new_assignments()
        maker.due_soon()
        overdue = maker.overdue()
        maker.extension()
        maker.supervision(overdue)
    with transaction.atomic():
        notified = maker.digest()
    return Morning(created=maker.created, notified=notified)
