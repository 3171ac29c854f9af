"""The full-text index of petitions and the administrator's dictionary terms (issue #12 §1).

``PetitionText`` holds, for each petition, the segmented tokens (``segment.index_text``) of its
title and of the rest of its text (content, subject of complaint, decision letters).  The
database-specific index over those columns is made by the migration:

* SQLite: an FTS5 table ``search_fts(title, body)`` over this table (external content, kept in
  step by triggers), queried with ``MATCH`` and ranked by ``bm25``;
* PostgreSQL: a stored generated ``tsvector`` column ``document`` (the title weighted A, the rest
  B, configuration ``simple`` — the text is already segmented) with a GIN index, ranked with
  ``ts_rank``.  Stored rather than an expression index: ranking reads the vector of every
  candidate, and an expression index would re-parse the text for each.

``scopes`` names, as tokens ``§<id>``, every organisation on the tree path of any organisation
involved in the petition (``petitions.Involvement``): exactly the scope roots whose staff may see
it (``petitions.access``).  On PostgreSQL they are lexemes of ``document`` too, so "has the word
and lies in my scope" is one intersection of two posting lists of the same GIN index instead of a
join of the word's matches in the whole table with the scope's petitions (a common word at a
million petitions: seconds).  The access rule itself is still applied on top; the tokens only
narrow.  They are only ever added (an organisation that stops being involved leaves its token,
which costs a little speed, never a result).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TERMS_COUNTER = "search.terms"


class PetitionText(models.Model):
    petition = models.OneToOneField(
        "petitions.Petition", on_delete=models.CASCADE, primary_key=True, related_name="search_text"
    )
    title = models.TextField(default="")
    body = models.TextField(default="")
    scopes = models.TextField(default="")
    indexed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("检索索引")
        verbose_name_plural = _("检索索引")

    def __str__(self) -> str:
        return f"search text of {self.petition_id}"


class SearchTerm(models.Model):
    """A word the segmenter must keep whole: a local place name, a unit, a local term."""

    word = models.CharField(_("词语"), max_length=40, unique=True)
    weight = models.PositiveIntegerField(_("词频"), null=True, blank=True)
    pos = models.CharField(_("词性"), max_length=8, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("检索词典词语")
        verbose_name_plural = _("检索词典词语")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


def terms_version() -> int:
    """A number that changes whenever a term is added or removed (every process compares it)."""
    from xinfang.core import counters

    return counters.value(TERMS_COUNTER)
