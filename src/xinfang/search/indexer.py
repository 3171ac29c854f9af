"""Keeping the full-text index current: one ``PetitionText`` row per petition, written in the
transaction of the write that changed the text (receivers.py), and in bulk for the reindex
command and the seeds.

What is indexed: the title (ranked higher), then the content, the subject of complaint as named
in clear (``subject_name``, the accused organisation's name) and the text of the decision letters
(request, facts found, decision).  Never the encrypted fields (petitioners' data, the accused
person of a report): the index is plain text, and holding them there would undo their encryption.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from xinfang.core.statistics import analyze
from xinfang.petitions.models import Petition

from . import segment
from .models import PetitionText

# The petition's columns whose change makes its index row stale.
TEXT_FIELDS = frozenset(
    {"title", "content", "subject_name", "subject_organisation", "subject_organisation_id"}
)


def texts(petition: Petition, letters: Iterable[tuple[str, str, str]] = ()) -> tuple[str, str]:
    """The raw title and body texts of ``petition``; ``letters`` are (request, facts, opinion)."""
    parts = [petition.content, petition.subject_name]
    if petition.subject_organisation_id:
        parts.append(_organisation_name(petition))
    for request_summary, facts, opinion in letters:
        if request_summary and request_summary != petition.content:
            parts.append(request_summary)
        parts += [facts, opinion]
    return petition.title, "\n".join(p for p in parts if p)


def _organisation_name(petition: Petition) -> str:
    from xinfang.organisations.models import Organisation

    cached = Petition.subject_organisation.field.get_cached_value(petition, default=None)  # type: ignore[attr-defined]
    if cached is not None:
        return cached.name
    names = Organisation.objects.filter(pk=petition.subject_organisation_id).values_list("name", flat=True)
    return names.first() or ""


def _letters(petition_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    from xinfang.workflow.models import DecisionLetter

    out: dict[int, list[tuple[str, str, str]]] = {}
    rows = DecisionLetter.objects.filter(petition_id__in=petition_ids)
    rows = rows.order_by("petition_id", "issued_at", "pk")
    for pid, *text in rows.values_list("petition_id", "request_summary", "facts", "opinion"):
        out.setdefault(pid, []).append(tuple(text))  # type: ignore[arg-type]
    return out


SCOPE_MARK = "§"  # not a word character: no query word can become a scope token


def scope_tokens(paths: Iterable[str]) -> str:
    """The ``scopes`` of an index row (models.py): ``§<id>`` for every organisation on the tree
    paths (``/1/5/23/``) of the organisations involved, sorted, each once."""
    return _joined({int(p) for path in paths for p in path.strip("/").split("/") if p})


def _joined(ids: Iterable[int]) -> str:
    """Scope tokens as the row holds them: sorted by organisation id, each once."""
    return " ".join(f"{SCOPE_MARK}{i}" for i in sorted(set(ids)))


def scope_token(organisation_id: int) -> str:
    return f"{SCOPE_MARK}{organisation_id}"


def _involvement_paths(petition_ids: list[int]) -> dict[int, list[str]]:
    from xinfang.petitions.models import Involvement

    out: dict[int, list[str]] = {}
    rows = Involvement.objects.filter(petition_id__in=petition_ids)
    rows = rows.values_list("petition_id", "organisation_path")
    for pid, path in rows:
        out.setdefault(pid, []).append(path)
    return out


def build_row(
    petition: Petition, letters: Iterable[tuple[str, str, str]] = (), paths: Iterable[str] = ()
) -> PetitionText:
    title, body = texts(petition, letters)
    return PetitionText(
        petition_id=petition.pk,
        title=segment.index_text([title]),
        body=segment.index_text([body]),
        scopes=scope_tokens(paths),
        indexed_at=timezone.now(),
    )


def index_petition(petition: Petition) -> None:
    """(Re)write the index row of one petition, inside the caller's transaction."""
    letters = _letters([petition.pk]).get(petition.pk, [])
    row = build_row(petition, letters)
    updated = PetitionText.objects.filter(petition_id=petition.pk).update(
        title=row.title, body=row.body, indexed_at=row.indexed_at
    )
    if not updated:
        paths = _involvement_paths([petition.pk]).get(petition.pk, [])
        PetitionText.objects.create(
            petition_id=petition.pk, title=row.title, body=row.body, scopes=scope_tokens(paths),
            indexed_at=row.indexed_at,
        )  # fmt: skip
        petition._search_pending = False  # written: the first involvement must not insert it again


def petition_created(petition: Petition) -> None:
    """A petition was just inserted: its row waits for its first involvement (``add_scope``), so
    it is written once, with its scope — one INSERT, one GIN insertion, nothing read.  Until then
    nobody may see the petition (the scope is its involvements), so nobody can miss it in a
    search either; one that never gets an involvement is indexed by ``search_reindex``."""
    petition._search_pending = True
    # Both marks are forgotten at the commit: afterwards another transaction may add tokens.
    transaction.on_commit(lambda: _forget(petition))


def _remember(petition: Petition, scopes: str) -> None:
    """What ``add_scope`` may trust without reading the row again, in this transaction."""
    petition._search_pending = False
    petition._search_scopes = scopes


def _forget(petition: Petition) -> None:
    petition.__dict__.pop("_search_pending", None)
    petition.__dict__.pop("_search_scopes", None)


def add_scope(petition: Petition, organisation_path: str) -> None:
    """Add the tokens of a newly involved organisation to the petition's index row (inside the
    caller's transaction).  The row is locked while read, so two involvements added at once both
    land; nothing is written when the tokens are there already (a unit under the same county).
    A row this process has just written (registration) is not read again."""
    if getattr(petition, "_search_pending", False):
        # The registration's first involvement: the row, whole, with its scope (no letters yet).
        row = build_row(petition, paths=[organisation_path])
        PetitionText.objects.create(
            petition_id=petition.pk, title=row.title, body=row.body, scopes=row.scopes,
            indexed_at=row.indexed_at,
        )  # fmt: skip
        _remember(petition, row.scopes)
        return
    wanted = set(scope_tokens([organisation_path]).split())
    if not wanted:
        return
    known = getattr(petition, "_search_scopes", None)
    current = known
    if current is None:
        current = (
            PetitionText.objects.select_for_update()
            .filter(petition_id=petition.pk)
            .values_list("scopes", flat=True)
            .first()
        )
        if current is None:
            return  # not indexed yet: the reindex reads every involvement
    have = set(current.split())
    if wanted <= have:
        return
    merged = _joined(int(token.removeprefix(SCOPE_MARK)) for token in have | wanted)
    PetitionText.objects.filter(petition_id=petition.pk).update(scopes=merged)
    if known is not None:
        petition._search_scopes = merged


def remove_scope(petition_id: int) -> None:
    """An involvement was deleted: the row's tokens become those of the involvements left (they
    must name exactly who may see the petition: ``petitions.access.without_scope_join``)."""
    paths = _involvement_paths([petition_id]).get(petition_id, [])
    PetitionText.objects.filter(petition_id=petition_id).update(scopes=scope_tokens(paths))


def index_many(petition_ids: list[int]) -> int:
    """(Re)write the index rows of these petitions in one transaction; returns how many."""
    if not petition_ids:
        return 0
    petitions = list(
        Petition.objects.filter(pk__in=petition_ids)
        .select_related("subject_organisation")
        .only("id", "title", "content", "subject_name", "subject_organisation__name")
    )
    letters = _letters(petition_ids)
    paths = _involvement_paths(petition_ids)
    rows = [build_row(p, letters.get(p.pk, []), paths.get(p.pk, [])) for p in petitions]
    with transaction.atomic():
        PetitionText.objects.filter(petition_id__in=petition_ids).delete()
        PetitionText.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def batches(
    *, batch: int = 1000, since: object = None, after_id: int = 0, until_id: int | None = None
) -> Iterator[list[int]]:
    """The ids of the petitions to index, ascending, ``batch`` at a time (resumable by id; a range
    ``after_id < id <= until_id`` lets several processes share a large reindex)."""
    qs = Petition.objects.order_by("pk")
    if since is not None:
        qs = qs.filter(registered_at__date__gte=since)
    if until_id is not None:
        qs = qs.filter(pk__lte=until_id)
    last = after_id
    while True:
        ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield ids
        last = ids[-1]


# Rows written at once after which the index's planner statistics are gathered afresh
# (core.statistics: ``query.is_common`` reads them).
ANALYZE_AFTER = 10_000


def index_all(*, batch: int = 1000) -> int:
    """Index every petition (the seeds call this at their end)."""
    done = sum(index_many(ids) for ids in batches(batch=batch))
    if done >= ANALYZE_AFTER:
        analyze(PetitionText)
    return done


def index_missing(*, batch: int = 2000, progress: Callable[[int], None] | None = None) -> int:
    """Index the petitions that have no index row yet (the seeds' bulk loads write past the
    receivers); returns how many."""
    done, last = 0, 0
    while True:
        ids = list(
            Petition.objects.filter(pk__gt=last, search_text__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            if done >= ANALYZE_AFTER:
                analyze(PetitionText)
            return done
        done += index_many(ids)
        last = ids[-1]
        if progress is not None:
            progress(done)
