"""The administrator's dictionary of search terms: adding and removing a word, audited, and the
version number every process compares to pick the change up (segment.tokenizer)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import counters

from . import segment
from .models import TERMS_COUNTER, SearchTerm

MAX_WORD = 40


def add_term(*, actor: Any, word: str, weight: int | None = None, pos: str = "") -> SearchTerm:
    """Add a word the segmenter must keep whole.  Petitions indexed before are cut the old way
    until reindexed (``xinfang search_reindex``)."""
    word = segment.normalise(word).replace(" ", "")
    if len(word) < 2 or len(word) > MAX_WORD:
        raise ValidationError({"word": [_("词语应为2至40个字。")]})
    if weight is not None and weight < 1:
        raise ValidationError({"weight": [_("词频应为正整数。")]})
    try:
        with transaction.atomic():
            term = SearchTerm.objects.create(
                word=word, weight=weight, pos=(pos or "").strip()[:8], created_by=actor
            )
            counters.increment(TERMS_COUNTER)
            record_event(actor=actor, action="search.term_added", obj=term, data={"word": word})
    except IntegrityError:
        raise ValidationError({"word": [_("该词语已在词典中。")]}) from None
    return term


def remove_term(*, actor: Any, term: SearchTerm) -> None:
    with transaction.atomic():
        word = term.word
        record_event(actor=actor, action="search.term_removed", obj=term, data={"word": word})
        term.delete()
        counters.increment(TERMS_COUNTER)
