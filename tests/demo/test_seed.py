"""``xinfang seed``: the demo tree, the demo accounts and bulk petitions stored as the services store them."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from xinfang.core import crypto
from xinfang.demo.accounts import DEMO_PASSWORD
from xinfang.demo.petitions import seed_petitions
from xinfang.demo.tree import CITIES, load_tree
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import PATH_STEP, Organisation, User
from xinfang.petitions.choices import COLLECTIVE_HEADCOUNT, MAX_REPRESENTATIVES, EventKind, InvolvementReason
from xinfang.petitions.models import Involvement, NumberSequence, Petition, Petitioner, PetitionEvent
from xinfang.petitions.services import find_petition_office, hash_query_code
from xinfang.petitions.validators import check_id_number, check_phone, mask_id_number, mask_phone

pytestmark = pytest.mark.django_db
GOVERNMENT = OrganisationKind.GOVERNMENT

METHODS = ["orm", pytest.param("copy", marks=pytest.mark.postgres)]


def skip_copy_without_postgres(method: str) -> None:
    if method == "copy" and connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db) -> str:
    """The demo seeded with 50 petitions, as a developer would run it."""
    with override_settings(DEBUG=True):
        return seed("--demo", "--petitions", "50")


def table_counts() -> dict[str, int]:
    from xinfang.audit.models import AuditEvent

    models = [
        Organisation,
        User,
        Petition,
        Petitioner,
        Involvement,
        PetitionEvent,
        NumberSequence,
        AuditEvent,
    ]
    return {m.__name__: m.objects.count() for m in models}


def test_demo_builds_tree_accounts_and_petitions(demo):
    """--demo creates the province, 2 cities, 6 counties with their townships and departments, the
    eight demo accounts and exactly the requested petitions, and prints the accounts table."""
    # then the tree has the promised shape
    tree = load_tree()
    assert len(tree.cities) == 2
    assert len(tree.counties) == 6
    for area in [*tree.cities, *tree.counties]:
        children = Organisation.objects.filter(parent=area.government).exclude(
            kind=OrganisationKind.GOVERNMENT
        )
        assert 8 <= children.count() <= 12
        kinds = list(children.values_list("kind", flat=True))
        assert kinds.count(OrganisationKind.PETITION_OFFICE) == 1
        for kind in (OrganisationKind.POLITICAL_LEGAL, OrganisationKind.DISCIPLINE, OrganisationKind.COURT):
            assert kind in kinds
    for county in tree.counties:
        assert 3 <= len(county.townships) <= 6
        assert all(t.kind == OrganisationKind.GOVERNMENT and len(t.code) == 9 for t in county.townships)
    assert tree.province.office is not None
    # and every path and depth is what create_organisation computes
    for org in Organisation.objects.select_related("parent"):
        parent_path = org.parent.path if org.parent else ""
        assert org.path == f"{parent_path}{org.pk:0{PATH_STEP}d}/"
        assert org.depth == (org.parent.depth + 1 if org.parent else 0)
    # and the accounts exist with their roles, and are printed
    expected = {
        "admin": ("sysadmin", tree.province.government),
        "secadmin": ("secadmin", tree.province.government),
        "auditor": ("auditor", tree.province.government),
        "intake": ("intake", tree.county_1.office),
        "supervisor": ("supervisor", tree.county_1.office),
        "leader": ("leader", tree.county_1.government),
        "handler": ("handler", tree.county_1.departments["人社局"]),
        "handler_b": ("handler", tree.other_city_county.departments["人社局"]),
        "city_supervisor": ("supervisor", tree.cities[0].office),
    }
    for username, (role, org) in expected.items():
        user = User.objects.get(username=username)
        assert user.role_codes == {role}
        assert user.organisation == org
        assert user.check_password(DEMO_PASSWORD)
        assert re.search(rf"^\s+{username}\s+.*{DEMO_PASSWORD}$", demo, re.M)
    assert tree.other_city_county.government.parent.name == CITIES[1].name
    # and the petitions are there, received over the last two years (besides the few of the demo
    # morning, registered through the services: test_morning.py)
    from xinfang.demo.morning import MORNING_MATTERS
    from xinfang.exchange.models import Referral

    bulk = Petition.objects.exclude(title__in=[title for title, _content, _entry in MORNING_MATTERS])
    # ... and besides the cases 省信访局 referred this week, registered by the exchange's own intake
    bulk = bulk.exclude(pk__in=Referral.objects.values("petition"))
    assert bulk.count() == 50
    assert "50 created" in demo
    received = sorted(bulk.values_list("received_on", flat=True))
    today = timezone.localdate()
    assert today - dt.timedelta(days=731) <= received[0] and received[-1] < today
    assert (received[-1] - received[0]).days > 600


def test_second_run_adds_nothing(demo):
    """Running the same command again creates no organisation, account, petition or sequence."""
    # given the demo seeded once
    before = table_counts()
    # when it runs again
    with override_settings(DEBUG=True):
        out = seed("--demo", "--petitions", "50")
    # then nothing was added but the audit row of the portal sample's fresh query code (a code is
    # stored hashed: each run reissues one so that it can print a code that works)
    from xinfang.audit.models import AuditEvent

    after = table_counts()
    reissued = AuditEvent.objects.filter(action="petition.query_code_reissued").count()
    assert reissued == 2
    assert after == {**before, "AuditEvent": before["AuditEvent"] + 1}
    assert "already present" in out
    assert "(existing)" in out
    # and the counts the first run rebuilt are not rebuilt again
    assert "Statistics rebuilt" not in out


def test_larger_target_tops_up(demo):
    """A larger --petitions adds only the difference, continuing the numbers without a gap."""
    # when the target is raised
    with override_settings(DEBUG=True):
        seed("--demo", "--petitions", "80")
    # then there are 80, numbered gap-free
    assert Petition.objects.count() == 80
    assert_numbers_gap_free()


def test_demo_intake_sees_county_petitions(demo):
    """The demo intake clerk sees exactly the petitions of county 1's office; handler_b (another
    city) sees none of them; administrators see none at all."""
    # given the demo users
    tree = load_tree()
    intake = User.objects.get(username="intake")
    # then the scope is county 1's petitions
    visible = set(Petition.objects.restrict(intake).values_list("pk", flat=True))
    county_1 = set(Petition.objects.filter(office=tree.county_1.office).values_list("pk", flat=True))
    assert visible == county_1
    assert visible, "seed 1 puts some of 50 petitions in county 1"
    handler_b = User.objects.get(username="handler_b")
    assert not Petition.objects.restrict(handler_b).filter(pk__in=county_1).exists()
    assert Petition.objects.restrict(User.objects.get(username="admin")).count() == 0


def assert_numbers_gap_free() -> None:
    numbers: dict[tuple[int, int], list[int]] = defaultdict(list)
    for office_id, number in Petition.objects.values_list("office_id", "number"):
        match = re.fullmatch(r"XF-(\d{6})-(\d{4})-(\d{6})", number)
        assert match, number
        office = Organisation.objects.get(pk=office_id)
        assert match[1] == office.parent.code  # the area's code: petition offices carry none
        numbers[(office_id, int(match[2]))].append(int(match[3]))
    sequences = {(s.office_id, s.year): s.last for s in NumberSequence.objects.all()}
    assert set(sequences) == set(numbers)
    for key, seqs in numbers.items():
        assert sorted(seqs) == list(range(1, sequences[key] + 1)), key


def test_numbers_are_gap_free_and_match_sequences(demo):
    """Per office and year, the numbers are 1..last of its NumberSequence row, none missing."""
    assert_numbers_gap_free()


@pytest.mark.parametrize("method", METHODS)
def test_rows_are_stored_as_the_services_store_them(db, method):
    """Every petition has its office involvement (and its unit's once routed), its public
    registration event, valid and encrypted personal data with blind indexes and masks; repeats
    point to an earlier petition of the same person; collective ones have at most five
    representatives.  (Its state and due date: test_stories_are_consistent.)"""
    skip_copy_without_postgres(method)
    # given a seeded tree (no accounts: allowed with DEBUG off)
    seed("--demo", "--no-accounts", "--petitions", "0")
    tree = load_tree()
    # when petitions are seeded in bulk
    result = seed_petitions(tree, target=200, seed=3, batch_size=70, method=method, workers=0)
    # then
    assert result.created == 200
    petitions = list(Petition.objects.select_related("office", "locality", "repeat_of"))
    assert len(petitions) == 200
    repeats = with_address = 0
    for p in petitions:
        assert p.office == find_petition_office(p.locality)
        assert len(p.query_code_hash) == 64
        assert p.is_collective == (p.headcount >= COLLECTIVE_HEADCOUNT)
        assert p.is_confidential == (p.purpose == "report")
        assert p.registered_at.date() >= p.received_on - dt.timedelta(days=1)  # UTC vs local date
        involvements = list(p.involvements.order_by("created_at", "pk"))
        units = [
            (a.unit_id, a.unit.path, InvolvementReason.UNIT) for a in p.assignments.select_related("unit")
        ]
        assert [(i.organisation_id, i.organisation_path, i.reason) for i in involvements] == [
            (p.office_id, p.office.path, InvolvementReason.OFFICE),
            *units,
        ]
        registered = p.events.get(kind=EventKind.REGISTERED)
        assert registered.is_public
        assert registered.public_note == f"{p.office.name}已登记您的信访事项。"
        people = list(p.petitioners.all())
        assert 1 <= len(people) <= (MAX_REPRESENTATIVES if p.is_collective else 1)
        for person in people:
            if person.id_number:
                assert check_id_number(person.id_number) == person.id_number
                assert person.id_number_hash == crypto.blind_index(person.id_number, purpose="id")
                assert person.id_number_mask == mask_id_number(person.id_number)
            if person.phone:
                assert check_phone(person.phone) == person.phone
                assert person.phone_hash == crypto.blind_index(person.phone, purpose="phone")
                assert person.phone_mask == mask_phone(person.phone)
            with_address += bool(person.address)
        if p.repeat_of is not None:
            repeats += 1
            assert p.is_repeat
            assert p.repeat_of.received_on < p.received_on
            assert p.repeat_of.office_id == p.office_id
            original = list(p.repeat_of.petitioners.values_list("name", "id_number_hash"))
            assert [(x.name, x.id_number_hash) for x in people] == original
            assert p.events.filter(kind=EventKind.REPEAT_LINKED, data__repeat_of=p.repeat_of.number).exists()
    assert 0.10 * 200 <= repeats <= 0.30 * 200
    number, query_code = result.sample
    assert Petition.objects.get(number=number).query_code_hash == hash_query_code(query_code)
    assert with_address > 100  # most, not all, petitioners give an address
    # and the ciphertext in the table is not the clear value
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {Petitioner._meta.db_table} WHERE id_number IS NOT NULL")  # noqa: S608
        stored = cursor.fetchone()[0]
    assert not stored.isdigit() and crypto.decrypt(stored).isdigit() is not None
    assert_numbers_gap_free()


def snapshot() -> list[tuple]:
    return list(
        Petition.objects.order_by("number").values_list(
            "number", "title", "content", "locality__name", "received_on", "headcount", "repeat_of__number"
        )
    )


def wipe_petitions() -> None:
    from xinfang.workflow.models import Evaluation

    Evaluation.objects.all().delete()  # protects its letter, which the petitions' delete takes
    PetitionEvent.objects.all().delete()
    Involvement.objects.all().delete()
    Petitioner.objects.all().delete()
    Petition.objects.update(repeat_of=None)
    Petition.objects.all().delete()
    NumberSequence.objects.all().delete()


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_data_whatever_the_workers(db, method):
    """--seed makes the data reproducible, and rendering in worker processes changes nothing."""
    skip_copy_without_postgres(method)
    # given the tree
    seed("--demo", "--no-accounts", "--petitions", "0")
    tree = load_tree()
    # when the same seed runs in this process and then in two worker processes
    seed_petitions(tree, target=60, seed=11, batch_size=25, method=method, workers=0)
    first = snapshot()
    wipe_petitions()
    seed_petitions(tree, target=60, seed=11, batch_size=25, method=method, workers=2)
    # then the petitions are the same
    assert snapshot() == first
    # and another seed gives other petitions
    wipe_petitions()
    seed_petitions(tree, target=60, seed=12, batch_size=25, method=method, workers=0)
    assert snapshot() != first


def test_demo_accounts_refused_without_debug(db):
    """With DEBUG off, --demo refuses (the password is published) before creating anything."""
    # when
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        seed("--demo", "--petitions", "10")
    # then nothing was created
    assert Organisation.objects.count() == 0
    assert User.objects.count() == 0


def test_no_accounts_allowed_without_debug(db):
    """--no-accounts seeds the tree and petitions in production settings (for benchmarks)."""
    with override_settings(DEBUG=False):
        out = seed("--demo", "--no-accounts", "--petitions", "10", "--no-stats")
    assert Petition.objects.count() == 10
    # --no-stats (benchmarks that time the load alone): the counts are left for rebuild_stats
    from xinfang.stats.models import DailyCount

    assert "Statistics rebuilt" not in out and not DailyCount.objects.exists()
    # only the seed's own user, who signs bulk decision letters: inactive, no password, no role
    assert list(User.objects.values_list("username", "is_active")) in ([], [("demo-seed", False)])
    assert not any(u.has_usable_password() or u.roles.exists() for u in User.objects.all())
    assert "Demo accounts" not in out
    assert "petitions/s" in out


def test_petitions_without_tree_fail_clearly(db):
    """Seeding petitions with no demo tree says what to run first."""
    with pytest.raises(CommandError, match="seed --demo"):
        seed("--petitions", "10")


def schema_of_seeded_tables() -> list[tuple]:
    tables = [m._meta.db_table for m in (Petition, Petitioner, Involvement, PetitionEvent)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [tables],
        )
        return indexes + cursor.fetchall()


@pytest.mark.postgres
def test_deferred_indexes_come_back_identical(db):
    """Building indexes and foreign keys after the load leaves exactly the migrated schema."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    # given the tree and the schema as migrated
    seed("--demo", "--no-accounts", "--petitions", "0")
    before = schema_of_seeded_tables()
    assert any("FOREIGN KEY" in str(row) for row in before)
    # when petitions are loaded with the indexes deferred
    result = seed_petitions(load_tree(), target=120, batch_size=50, defer_indexes=True, workers=0)
    # then the schema is the same and the data are whole
    assert result.deferred_indexes
    assert schema_of_seeded_tables() == before
    # and a partitioned table's indexes (the timeline) are valid and on every partition: its
    # definition reads back as "ON ONLY", which alone builds an invalid index on the parent only
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid")
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'petitions_petitionevent'::regclass AND NOT EXISTS ("
            "  SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indkey[0] = ("
            "   SELECT attnum FROM pg_attribute WHERE attrelid = c.oid AND attname = 'petition_id'))"
        )
        assert cursor.fetchone()[0] == 0  # every month can be searched by petition
    assert Involvement.objects.filter(reason=InvolvementReason.OFFICE).count() == 120
    assert_numbers_gap_free()


def test_every_unserved_seeded_letter_has_its_document_to_serve(demo):
    """The seed writes letters in bulk; each one not yet served gets an issued 处理意见书 (numbered,
    its DOCX kept), so the office can record its service and the petitioner's window can start."""
    from xinfang.core.files import open_plaintext
    from xinfang.documents.models import Document
    from xinfang.workflow.models import DecisionLetter

    unserved = DecisionLetter.objects.filter(served_on__isnull=True)
    assert not unserved.filter(documents__isnull=True).exists()
    documents = Document.objects.filter(kind="decision_letter", status="issued")
    assert documents.exists()
    document = documents.filter(served_on__isnull=True).first() or documents.first()
    assert document.reference.endswith("号") and document.letter_id is not None
    with open_plaintext(document.docx_file) as reader:
        assert reader.read()[:2] == b"PK"
    assert "Decision letters as documents" in demo
