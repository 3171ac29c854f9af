"""Full-text search (issue #12 §1): segmentation, phrases, AND of words, ranking, highlighting,
the weak-query rule, exact number look-up, scope, and the index kept in the writing transaction.
Runs on SQLite (FTS5) and on PostgreSQL (tsvector + GIN) alike."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import RequestFactory

from xinfang.petitions.filtersets import PetitionFilter, SearchRefused
from xinfang.petitions.models import Petition
from xinfang.petitions.views import queue_queryset
from xinfang.search import indexer, query, segment
from xinfang.search.models import PetitionText
from xinfang.workflow import services

from ..factories import make_draft, register
from ..procedure import REPLY, to_accepted

pytestmark = pytest.mark.django_db

FILLER = "特此来信，恳请予以核查办理。"  # registration asks for at least 10 characters of content


def new_registration(world, office=None, clerk=None, locality=None, **overrides):
    if "content" in overrides:
        overrides["content"] += FILLER
    return register(
        office or world.a.office, clerk or world.intake_a, locality or world.a.township, **overrides
    )


def found(user, q: str, **extra) -> list[str]:
    flt = PetitionFilter(q=q, actor=user, **extra)
    return list(flt.apply(Petition.objects.restrict(user)).values_list("number", flat=True))


# --- segmentation -------------------------------------------------------------------------------


def test_normalise_folds_width_case_and_carriage_returns():
    assert segment.normalise("ＡＢＣ１２３_x000D_  女婴\t\n") == "abc123 女婴"


def test_search_mode_indexes_a_compound_and_its_parts():
    tokens = segment.index_tokens("中华人民共和国")
    assert "中华人民共和国" in tokens and "共和国" in tokens and "人民" in tokens


def test_a_word_in_the_body_is_found(world):
    target = new_registration(
        world, title="遗弃问题", content="在医院门口发现一名女婴被遗弃，请求处理。"
    ).petition
    new_registration(world, title="拖欠工资", content="工地拖欠工资。")
    assert found(world.intake_a, "女婴") == [target.number]
    assert found(world.intake_a, "遗弃女婴") == [target.number]  # two words: both must match


def test_all_words_must_match(world):
    both = new_registration(world, title="仓库出库", content="粮食出库时短斤少两。").petition
    new_registration(world, title="仓库", content="粮食仓库漏雨。")
    assert found(world.intake_a, "粮食 出库") == [both.number]


def test_a_quoted_phrase_matches_the_characters_in_that_order(world):
    phrase = new_registration(world, title="噪音", content="楼下烧烤店油烟扰民严重。").petition
    apart = new_registration(world, title="噪音", content="扰民的是油烟，还有楼下烧烤店。").petition
    assert set(found(world.intake_a, "油烟 扰民")) == {phrase.number, apart.number}
    assert found(world.intake_a, "“油烟扰民”") == [phrase.number]
    assert found(world.intake_a, '"油烟扰民"') == [phrase.number]


def test_a_word_cut_differently_in_context_is_still_found(world):
    # jieba cuts 长江大桥 whole; searching for 江大 (not a word) finds it through the bigrams.
    target = new_registration(world, title="桥", content="南京市长江大桥维修封路。").petition
    assert found(world.intake_a, "江大桥") == [target.number]


def test_latin_and_digits_are_searched_case_insensitively(world):
    target = new_registration(world, title="E12市卫计局重复征收", content="编号ABC2017的收据。").petition
    assert found(world.intake_a, "e12市卫计局") == [target.number]
    assert found(world.intake_a, "abc2017") == [target.number]


def test_user_dictionary_term_added_then_reindexed(world, sysadmin_term):
    petition = new_registration(world, title="道路", content="青山县禾木岭村道路坑洼。").petition
    before = PetitionText.objects.get(petition=petition).body.split()
    assert "禾木岭" not in before
    sysadmin_term("禾木岭")
    indexer.index_many([petition.pk])
    assert "禾木岭" in PetitionText.objects.get(petition=petition).body.split()
    assert found(world.intake_a, "禾木岭") == [petition.number]


@pytest.fixture
def sysadmin_term(world):
    from xinfang.search.services import add_term

    def add(word: str) -> None:
        add_term(actor=world.sysadmin, word=word)
        segment.reset()

    yield add
    segment.reset()


# --- ranking and highlighting -------------------------------------------------------------------


def test_a_title_hit_outranks_a_body_only_hit(world):
    body = new_registration(world, title="其他事项", content="小区物业乱收停车费用。").petition
    title = new_registration(world, title="物业乱收费", content="请求查处。").petition
    assert found(world.intake_a, "物业")[:2] == [title.number, body.number]


def test_an_explicit_order_wins_over_relevance(world):
    first = new_registration(world, title="物业", content="物业").petition
    second = new_registration(world, title="其他", content="物业费").petition
    assert found(world.intake_a, "物业", ordering="-registered_at") == [second.number, first.number]


def test_highlight_marks_the_words_and_escapes_the_text():
    html = query.mark("<b>物业</b>乱收费 & 物业", ["物业"])
    assert html == "&lt;b&gt;<mark>物业</mark>&lt;/b&gt;乱收费 &amp; <mark>物业</mark>"
    long = "甲" * 200 + "女婴" + "乙" * 200
    snippet = query.mark(long, ["女婴"], window=40)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>女婴</mark>" in snippet


def test_the_queue_shows_highlighted_hits(world, client):
    new_registration(world, title="女婴遗弃", content="医院门口<script>女婴</script>被遗弃。")
    client.force_login(world.intake_a)
    page = client.get("/staff/", {"q": "女婴"}).content.decode()
    assert "<mark>女婴</mark>" in page
    assert "<script>女婴" not in page


# --- what is not searched -------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["的", "女", "问题", "的 了 是", "“的”"])
def test_single_characters_and_common_words_are_refused(world, q):
    new_registration(world, title="问题", content="的了是女")
    with pytest.raises(SearchRefused) as exc:
        found(world.intake_a, q)
    assert exc.value.message == "请输入更具体的关键词"


def test_the_queue_says_why_a_weak_query_found_nothing(world, client):
    client.force_login(world.intake_a)
    page = client.get("/staff/", {"q": "的"}).content.decode()
    assert "请输入更具体的关键词" in page


def test_a_number_is_an_exact_look_up(world):
    one = new_registration(world).petition
    new_registration(world)
    assert found(world.intake_a, one.number.lower()) == [one.number]
    assert found(world.intake_a, one.number[:-1] + "9") == [] or one.number.endswith("9")


# --- scope --------------------------------------------------------------------------------------


def test_another_county_never_finds_it(world):
    mine = new_registration(world, title="独特词语甲", content="冬瓜皮事件").petition
    theirs = new_registration(
        world, world.b.office, world.intake_b, world.b.township, title="冬瓜皮", content="冬瓜皮"
    ).petition
    assert found(world.intake_a, "冬瓜皮") == [mine.number]
    assert found(world.intake_b, "冬瓜皮") == [theirs.number]
    assert set(found(world.city_supervisor, "冬瓜皮")) == {mine.number, theirs.number}


def _scope_ids(petition) -> set[int]:
    scopes = PetitionText.objects.get(petition_id=petition.pk).scopes
    return {int(token.removeprefix(indexer.SCOPE_MARK)) for token in scopes.split()}


def _path_ids(org) -> set[int]:
    return {int(p) for p in org.path.strip("/").split("/") if p}


def test_the_index_row_names_every_scope_that_may_see_it(world):
    petition = new_registration(world, title="南瓜藤", content="南瓜藤枯死").petition
    assert _scope_ids(petition) == _path_ids(world.a.office)
    # Before the assignment the department's handler sees nothing; after it, the unit's token
    # has joined the row and the handler finds it by its words.
    assert found(world.handler_a, "南瓜藤") == []
    to_accepted(world, petition.number)
    assert _scope_ids(petition) == _path_ids(world.a.office) | _path_ids(world.a.department)
    assert found(world.handler_a, "南瓜藤") == [petition.number]


def test_a_search_for_digits_never_matches_a_scope_token(world):
    petition = new_registration(world, title="门牌号码", content="门牌号码错误").petition
    digits = str(world.a.office.pk).rjust(2, "0")  # a word of two digits at least
    assert digits not in segment.index_tokens(petition.title + petition.content)
    assert found(world.intake_a, digits) == []


def test_the_reindex_writes_the_scope_tokens(world):
    petition = new_registration(world, title="丝瓜", content="丝瓜架倒塌").petition
    to_accepted(world, petition.number)
    PetitionText.objects.all().delete()
    indexer.index_many([petition.pk])
    assert _scope_ids(petition) == _path_ids(world.a.office) | _path_ids(world.a.department)
    assert found(world.handler_a, "丝瓜架") == [petition.number]


def test_a_confidential_report_stays_hidden_from_the_accused(world):
    report = new_registration(
        world,
        purpose="report",
        title="检举受贿",
        content="某局长收受西瓜贿赂。",
        subject_organisation_id=world.a.department.pk,
        subject_name="某局长",
    ).petition
    assert found(world.intake_a, "西瓜贿赂") == [report.number]
    assert found(world.handler_a, "西瓜贿赂") == []


# --- the index follows the writes ---------------------------------------------------------------


def test_a_rolled_back_registration_leaves_no_index_row(world):
    from xinfang.petitions.services import register_petition

    before = PetitionText.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        register_petition(
            draft=make_draft(world.a.township, title="回滚", content="回滚的信访" + FILLER),
            office=world.a.office,
            actor=world.intake_a,
        )
        assert PetitionText.objects.count() == before + 1
        raise RuntimeError
    assert PetitionText.objects.count() == before
    assert found(world.intake_a, "回滚") == []


def test_the_reply_letter_text_becomes_findable(world):
    petition = new_registration(world, title="工资", content="拖欠工资").petition
    to_accepted(world, petition.number)
    assert found(world.intake_a, "补发") == []
    services.reply(user=world.handler_a, number=petition.number, **REPLY)  # opinion: 责成…补发
    assert found(world.intake_a, "补发") == [petition.number]


def test_naming_the_subject_reindexes(world):
    petition = new_registration(world, purpose="report", title="检举", content="检举某人").petition
    services.name_subject(
        user=world.intake_a,
        number=petition.number,
        subject_organisation=world.a.department,
        subject_name="王某某科长",
    )
    assert petition.number in found(world.supervisor_a, "王某某科长")


def test_reindex_command_rebuilds_rows(world):
    from django.core.management import call_command

    petition = new_registration(world, title="萝卜", content="萝卜价格").petition
    PetitionText.objects.all().delete()
    assert found(world.intake_a, "萝卜") == []
    call_command("search_reindex", "--batch", "1")
    assert found(world.intake_a, "萝卜") == [petition.number]


def test_queue_form_filters_combine_with_search(world):
    new_registration(world, title="桥梁", content="桥梁开裂", channel="visit")
    letter = new_registration(world, title="桥梁", content="桥梁开裂", channel="letter").petition
    request = RequestFactory().get("/staff/", {"q": "桥梁", "channel": "letter"})
    request.user = world.intake_a
    _form, qs = queue_queryset(request)
    assert list(qs.values_list("number", flat=True)) == [letter.number]


def test_a_common_word_on_postgresql_is_ordered_by_recency(world, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the common-word path reads PostgreSQL's planner statistics")
    older = new_registration(world, title="物业", content="物业公司").petition
    newer = new_registration(world, title="其他", content="物业费").petition
    monkeypatch.setattr(query, "COMMON_ROWS", -1)  # every word counts as common
    assert found(world.intake_a, "物业") == [newer.number, older.number]


def test_the_migration_fills_the_scopes_as_the_indexer_writes_them(world):
    """Migration 0003 fills the scopes of the rows already there (in SQL on PostgreSQL, from the
    zero-padded paths): the same tokens the receivers write, and the search finds by them."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("xinfang.search.migrations.0003_scopes")
    petition = new_registration(world, title="冬瓜棚", content="冬瓜棚被拆").petition
    to_accepted(world, petition.number)
    written = set(PetitionText.objects.get(petition_id=petition.pk).scopes.split())
    PetitionText.objects.update(scopes="")

    class Editor:  # what RunPython's function uses of a schema editor, inside the test's transaction
        def execute(self, sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    Editor.connection = connection
    if connection.vendor == "postgresql":  # no ALTER TABLE with deferred checks pending
        Editor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    migration.forwards(apps, Editor())
    assert set(PetitionText.objects.get(petition_id=petition.pk).scopes.split()) == written
    assert found(world.handler_a, "冬瓜棚") == [petition.number]


# --- the scope in the index (PostgreSQL: the search reads the scope from its own index) ---------


def test_the_search_does_not_join_the_scope_and_keeps_every_rule(world):
    """On PostgreSQL the scope's token replaces the restriction's semi-join with the involvements
    (access.without_scope_join); the accused and recusals still apply (tests above), and the
    other county, the unit before and after its assignment, the city: as the rule says."""
    from django.db import connection

    mine = new_registration(world, title="葫芦瓢", content="葫芦瓢破损").petition
    theirs = new_registration(
        world, world.b.office, world.intake_b, world.b.township, title="葫芦瓢", content="葫芦瓢"
    ).petition
    qs = PetitionFilter(q="葫芦瓢", actor=world.intake_a).apply(Petition.objects.restrict(world.intake_a))
    sql = str(qs.query)
    if connection.vendor == "postgresql":
        assert "petitions_involvement" not in sql and "§" in str(qs.query.sql_with_params()[1])
    assert list(qs.values_list("number", flat=True)) == [mine.number]
    assert found(world.intake_b, "葫芦瓢") == [theirs.number]
    assert set(found(world.city_supervisor, "葫芦瓢")) == {mine.number, theirs.number}
    assert found(world.handler_a, "葫芦瓢") == []
    to_accepted(world, mine.number)
    assert found(world.handler_a, "葫芦瓢") == [mine.number]


def test_a_recused_clerk_does_not_find_it(world):
    from xinfang.petitions.models import Recusal

    petition = new_registration(world, title="茄子地", content="茄子地被占").petition
    assert found(world.intake_a, "茄子地") == [petition.number]
    Recusal.objects.create(
        petition=petition, user=world.intake_a, reason="亲属关系", decided_by=world.supervisor_a
    )
    assert found(world.intake_a, "茄子地") == []


def test_a_deleted_involvement_takes_its_token_away(world):
    from xinfang.petitions.models import Involvement

    petition = new_registration(world, title="蒜苗", content="蒜苗被踩").petition
    to_accepted(world, petition.number)
    assert found(world.handler_a, "蒜苗") == [petition.number]
    Involvement.objects.filter(petition=petition, organisation=world.a.department).delete()
    assert _scope_ids(petition) == _path_ids(world.a.office)
    assert found(world.handler_a, "蒜苗") == []


def test_without_scope_join_leaves_another_scope_alone(world):
    from xinfang.petitions.access import without_scope_join

    qs = Petition.objects.restrict(world.intake_a)
    assert without_scope_join(qs, world.b.government).query.where.children == qs.query.where.children
    assert (
        len(without_scope_join(qs, world.a.government).query.where.children)
        == len(qs.query.where.children) - 1
    )


# --- a word's own token first, its bigram chain only when the token is absent --------------------


def test_a_word_held_as_a_token_is_searched_as_the_token_alone(world):
    new_registration(world, title="扬尘", content="建筑工地扬尘严重。")
    parsed = query.word_first(query.parse("建筑工地"), query.scope_of(world.intake_a))
    assert parsed.terms == [[[["建筑工地"]]]]


def test_a_word_no_document_holds_as_a_token_keeps_its_bigram_chain(world):
    # jieba cuts 长江大桥 whole (and 长江, 大桥): no document holds 江大桥 as a token.
    target = new_registration(world, title="桥", content="南京市长江大桥维修封路。").petition
    scope = query.scope_of(world.intake_a)
    parsed = query.word_first(query.ParsedQuery(terms=[query._word_term("江大桥")]), scope)
    assert parsed.terms == [[[["江大桥"]], [["江大", "大桥"]]]]  # the token, or the chain
    restricted = Petition.objects.restrict(world.intake_a)
    assert list(query.matching(restricted, parsed, scope).values_list("number", flat=True)) == [target.number]


def test_the_token_probe_looks_inside_the_scope_on_postgresql(world):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's index has no scope tokens: its probe is of the whole index")
    new_registration(
        world, world.b.office, world.intake_b, world.b.township, title="扬尘", content="建筑工地扬尘严重。"
    )
    word = query.parse("建筑工地")
    assert len(query.word_first(word, query.scope_of(world.intake_a)).terms[0]) == 2
    assert query.word_first(word, query.scope_of(world.intake_b)).terms == [[[["建筑工地"]]]]
