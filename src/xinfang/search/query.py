"""Full-text queries over petitions: parsing, matching within the caller's scope, ranking and
highlighting (issue #12 §1).

The rules (docs/architecture.md, "Search"):

* the user's text is cut into words by the same segmenter as the index; every word must match
  (AND).  A Chinese word matches as the word token **or** as the chain of its two-character runs
  (so it is found even where the document's context cut it differently: recall), the token
  adding to the rank (precision);
* a phrase in double quotes ("…" or “…”) matches those characters in that order;
* single characters and very common words (``segment.STOP_WORDS``) are dropped; a query left
  with nothing is refused with "请输入更具体的关键词" and reads nothing — it would match most of
  the table;
* a petition number is not a text search: ``PetitionFilter`` looks it up in its unique index
  before calling this module;
* results are ranked by relevance (SQLite ``bm25`` with the title weighted 10 to 1, PostgreSQL
  ``ts_rank`` with the title weight A, the rest B), ties by the most recent registration, then id.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from . import segment

QUOTED = re.compile(r"[\"“”„「『]([^\"“”„「」『』]*)[\"“”」』]")
_PIECES = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\W\u3400-\u9fff\uf900-\ufaff]+", re.UNICODE)
SQLITE_TITLE_WEIGHT = 10.0

Chain = list[str]  # tokens that must stand next to each other
Alternative = list[Chain]  # chains that must all match
Term = list[Alternative]  # one alternative must match


@dataclass
class ParsedQuery:
    terms: list[Term] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)  # the strings to highlight
    dropped: list[str] = field(default_factory=list)  # words too weak to search

    @property
    def empty(self) -> bool:
        return not self.terms


class QueryTooWeak(Exception):
    """The query has no word specific enough to search (only single characters or common words)."""

    message = "请输入更具体的关键词"


def _chain_of(piece: str) -> Chain:
    """A piece of text as adjacent index tokens: Chinese as its bigrams, anything else as itself."""
    if segment.is_han(piece):
        return list(segment.bigrams(piece)) or [piece]
    return [piece]


def _pieces(text: str) -> list[str]:
    return _PIECES.findall(segment.normalise(text))


def _word_term(word: str) -> Term | None:
    pieces = [p for p in _pieces(word) if not (segment.is_han(p) and len(p) < 2)]
    if not pieces:
        return None
    as_chains: Alternative = [_chain_of(p) for p in pieces]
    alternatives: Term = [[[word]]] if word.isalnum() else []
    if as_chains not in alternatives:
        alternatives.append(as_chains)
    return alternatives


def parse(text: str) -> ParsedQuery:
    """The terms of a query text (see the module's rules)."""
    parsed = ParsedQuery()
    rest = text or ""
    for match in QUOTED.finditer(rest):
        phrase = segment.normalise(match.group(1))
        pieces = [p for p in _pieces(phrase) if not (segment.is_han(p) and len(p) < 2)]
        if not pieces or (len(phrase) < 2) or phrase in segment.STOP_WORDS:
            if phrase:
                parsed.dropped.append(phrase)
            continue
        parsed.terms.append([[_chain_of(p) for p in pieces]])
        parsed.marks.append(phrase)
    rest = QUOTED.sub(" ", rest)
    for word in segment.query_words(rest):
        if segment.is_weak(word):
            parsed.dropped.append(word)
            continue
        term = _word_term(word)
        if term is None:
            parsed.dropped.append(word)
            continue
        if term not in parsed.terms:
            parsed.terms.append(term)
            parsed.marks.append(word)
    return parsed


# --- rendering for each database ---------------------------------------------------------------


def fts5_expression(parsed: ParsedQuery) -> str:
    """The MATCH expression of SQLite FTS5: chains as quoted phrases."""

    def chain(tokens: Chain) -> str:
        return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'

    def alternative(alt: Alternative) -> str:
        return "(" + " AND ".join(chain(c) for c in alt) + ")"

    return " AND ".join("(" + " OR ".join(alternative(a) for a in term) + ")" for term in parsed.terms)


def tsquery_expression(parsed: ParsedQuery) -> str:
    """The text for PostgreSQL's ``to_tsquery('simple', …)``: chains with ``<->``."""

    def lexeme(token: str) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"

    def chain(tokens: Chain) -> str:
        return "(" + " <-> ".join(lexeme(t) for t in tokens) + ")"

    def alternative(alt: Alternative) -> str:
        return "(" + " & ".join(chain(c) for c in alt) + ")"

    return " & ".join("(" + " | ".join(alternative(a) for a in term) + ")" for term in parsed.terms)


def matching(qs: QuerySet, parsed: ParsedQuery, scope: Any = None) -> QuerySet:
    """``qs`` narrowed to the petitions matching ``parsed``, annotated ``search_rank`` (higher is
    better).  A join with the index, so PostgreSQL can start from the GIN index for a rare word
    and from the scope for a common one.

    ``scope``: the caller's scope root (``petitions.access.scope_root``), ``qs`` being restricted to
    it.  On PostgreSQL its token is ANDed into the match, so the GIN index itself returns only the
    matches inside the scope (models.py, ``scopes``), and the restriction's own semi-join with the
    involvements — the same condition, but a hash of the whole scope (177,000 petitions in a
    county) built for every search — is dropped (``access.without_scope_join``; the rest of the
    access rule stays)."""
    table = qs.model._meta.db_table
    parsed = word_first(parsed, scope)
    if connection.vendor == "postgresql":
        from xinfang.petitions.access import without_scope_join

        expr = tsquery_expression(parsed)
        if scope is not None:
            qs = without_scope_join(qs, scope)
        # The scope's token is cast, not parsed: to_tsquery would cut "§12" down to "12".
        scoped = "(to_tsquery('simple'::regconfig, %s) && %s::tsquery)"
        params = [expr, _scope_lexeme(scope.pk if scope is not None else 0)]
        if scope is None:
            scoped, params = "to_tsquery('simple'::regconfig, %s)", [expr]
        where = [f"search_petitiontext.petition_id = {table}.id", f"search_petitiontext.document @@ {scoped}"]
        # ``extra``: the index table is no model relation of Petition's (the tsvector column and
        # the FTS5 table are unknown to the ORM); every value is a parameter, never formatted in.
        if is_common(scoped, params):
            # Ranking a common word reads the vector of every match in the scope before the
            # page is cut: order by the newest registration instead, a walk of the registration
            # index that stops at the page.
            return qs.extra(  # noqa: S610
                tables=["search_petitiontext"],
                where=where,
                params=params,
                select={"search_rank": "CAST(0 AS real)"},  # a constant: the order is the next keys
            )
        return qs.extra(  # noqa: S610
            tables=["search_petitiontext"],
            where=where,
            params=params,
            # The rank is of the words alone (the scope's token is in every match).
            select={
                "search_rank": "ts_rank(search_petitiontext.document, to_tsquery('simple'::regconfig, %s))"
            },
            select_params=[expr],
        )
    expr = fts5_expression(parsed)
    return qs.extra(  # noqa: S610
        tables=["search_fts"],
        where=[f"search_fts.rowid = {table}.id", "search_fts MATCH %s"],
        params=[expr],
        # bm25 is lower for better matches: negated, so that higher is better on both databases.
        select={"search_rank": f"-bm25(search_fts, {SQLITE_TITLE_WEIGHT}, 1.0)"},
    )


def word_first(parsed: ParsedQuery, scope: Any = None) -> ParsedQuery:
    """``parsed`` with each word of three characters or more searched as its word token alone
    when that token is in the index (within ``scope`` on PostgreSQL), and as its bigram chain only
    when it is not.

    The chain finds a word the document's context cut differently (recall), but its bigrams are
    common: 建筑工地 as 建筑 <-> 筑工 <-> 工地 made PostgreSQL recheck the positions of 4,000 rows
    of a county to find one.  A word somebody types is almost always cut the same way in the
    documents that hold it; a probe of the token (one GIN or FTS5 look-up, stopping at the first
    row) decides.  Measured: recall on real messages unchanged within 0.005 (docs/performance.md,
    "Search")."""
    terms: list[Term] = []
    for term in parsed.terms:
        word = _probe_word(term)
        if word is not None and _token_exists(word, scope):
            term = [[[word]]]
        terms.append(term)
    return ParsedQuery(terms=terms, marks=parsed.marks, dropped=parsed.dropped)


def _probe_word(term: Term) -> str | None:
    """The word token of a term that also has a bigram chain, when that chain is longer than one
    bigram (a two-character word *is* its bigram): else None."""
    if len(term) != 2 or term[0] != [[term[0][0][0]]]:
        return None
    word = term[0][0][0]
    return word if segment.is_han(word) and len(word) >= 3 else None


def _token_exists(word: str, scope: Any) -> bool:
    single = ParsedQuery(terms=[[[[word]]]])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if scope is None:
                sql = "document @@ to_tsquery('simple'::regconfig, %s)"
                params = [tsquery_expression(single)]
            else:
                sql = "document @@ (to_tsquery('simple'::regconfig, %s) && %s::tsquery)"
                params = [tsquery_expression(single), _scope_lexeme(scope.pk)]
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM search_petitiontext WHERE {sql})", params)  # noqa: S608
        else:
            sql = "SELECT EXISTS (SELECT 1 FROM search_fts WHERE search_fts MATCH %s)"
            cursor.execute(sql, [fts5_expression(single)])
        return bool(cursor.fetchone()[0])


def _scope_lexeme(organisation_id: int) -> str:
    from .indexer import scope_token

    return "'" + scope_token(int(organisation_id)) + "'"


RELEVANCE_ORDER = ("-search_rank", "-registered_at", "-id")

# A query PostgreSQL's statistics expect to match more than this many documents is "common".  Low,
# because the estimate of several words ANDed assumes they are independent, and in petitions they
# are not (拖欠 & 工资 in a county: 2,800 expected, 21,800 found — ranking them all took 240 ms).
COMMON_ROWS = 1000


def is_common(tsquery: str, params: list[str]) -> bool:
    """Whether PostgreSQL's own statistics of the index (the most common lexemes, kept by ANALYZE)
    expect the SQL ``tsquery`` (with ``params``) to match more than ``COMMON_ROWS`` documents: a
    planning-only look, about a millisecond, nothing is read."""
    with connection.cursor() as cursor:
        cursor.execute(
            # ``tsquery`` is one of matching()'s two constant fragments; the values are parameters.
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_petitiontext WHERE document @@ {tsquery}",  # noqa: S608
            params,
        )
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"]) > COMMON_ROWS


def apply_search(qs: QuerySet, text: str, actor: Any = None) -> QuerySet:
    """The text search behind ``PetitionFilter.q`` (registered in ``apps.ready``), within the
    scope of ``actor`` (``qs`` is already restricted to it).  Raises ``QueryTooWeak`` for a
    query with nothing specific enough to look for."""
    parsed = parse(text)
    if parsed.empty:
        raise QueryTooWeak(_("请输入更具体的关键词"))
    return matching(qs, parsed, scope=scope_of(actor))


def scope_of(actor: Any) -> Any:
    """``actor``'s scope root (an Organisation), or None (no organisation: the restricted ``qs`` is
    empty, or the caller is no person)."""
    from xinfang.petitions.access import scope_root

    org = getattr(actor, "organisation", None) if actor is not None else None
    return scope_root(org) if org is not None else None


# --- highlighting -----------------------------------------------------------------------------

SNIPPET_CHARS = 80


def _spans(text: str, marks: Iterable[str]) -> list[tuple[int, int]]:
    folded = text.lower()
    spans = []
    for mark in marks:
        for alias in {mark, mark.lower()}:
            start = folded.find(alias)
            while start >= 0 and alias:
                spans.append((start, start + len(alias)))
                start = folded.find(alias, start + len(alias))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, marks: Iterable[str], *, window: int | None = None) -> str:
    """``text`` HTML-escaped with the marked strings in ``<mark>``; with ``window``, only about
    that many characters around the first match (with … where cut).  "" when nothing matched."""
    text = " ".join((text or "").replace("_x000D_", " ").split())
    spans = _spans(text, marks)
    if not spans:
        return ""
    lo, hi = 0, len(text)
    if window is not None and len(text) > window:
        lo = max(0, spans[0][0] - window // 4)
        hi = min(len(text), lo + window)
    out, pos = [], lo
    for start, end in spans:
        if start < lo or end > hi:
            continue
        out.append(html.escape(text[pos:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:hi]))
    return ("…" if lo > 0 else "") + "".join(out) + ("…" if hi < len(text) else "")


def highlight_petitions(petitions: Iterable[Any], text: str) -> None:
    """Set ``search_title`` (the title with its matches marked, or ""), ``search_snippet`` (a
    passage of the content around the first match, or "") and ``search_highlight`` (the API's
    field) on each petition, HTML-escaped.  Only
    the title and content are shown: never an encrypted field."""
    parsed = parse(text)
    for petition in petitions:
        petition.search_title = mark(petition.title, parsed.marks)
        petition.search_snippet = mark(petition.content, parsed.marks, window=SNIPPET_CHARS)
        # One string for the API: the content's passage, else the marked title.
        petition.search_highlight = petition.search_snippet or petition.search_title


# --- petitioner look-up -------------------------------------------------------------------------


class PersonLookupRefused(PermissionError):
    """The caller may not look petitions up by a petitioner's ID number."""


def may_look_up_id(user: Any) -> bool:
    """The ID-tail look-up is for staff who may reveal personal data: the casework roles (the same
    as ``petitions.views.reveal``)."""
    from xinfang.organisations.choices import CASEWORK_ROLES

    has_role = getattr(user, "has_role", None)
    return bool(has_role and has_role(*CASEWORK_ROLES))


def apply_person_search(qs: QuerySet, *, name: str = "", id_tail: str = "", actor: Any = None) -> QuerySet:
    """Petitions (within ``qs``, the caller's scope) with a petitioner of exactly this name (through
    the keyed hash of the normalised name) and/or whose ID number ends with ``id_tail`` (the four
    characters the mask shows).  Audited, as a look-up by person is sensitive: the event records
    that a look-up was made and by what, never the name or the digits asked for."""
    from xinfang.audit.services import record_event
    from xinfang.petitions.models import Petitioner, id_tail_of, petitioner_name_hash

    people = Petitioner.objects.all()
    used = []
    if name.strip():
        people = people.filter(name_hash=petitioner_name_hash(name))
        used.append("name")
    if id_tail.strip():
        if not may_look_up_id(actor):
            record_event(actor=actor, action="search.person_lookup_denied", data={"by": ["id_tail"]})
            raise PersonLookupRefused(_("您无权按身份证号码查找信访人。"))
        people = people.filter(id_number_tail=id_tail_of(id_tail))
        used.append("id_tail")
    if not used:
        return qs
    record_event(actor=actor, action="search.person_lookup", data={"by": used})
    return qs.filter(pk__in=people.values("petition_id"))
