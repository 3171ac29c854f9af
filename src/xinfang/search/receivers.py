"""Index maintenance inside the writing transaction (Django sends ``post_save`` inside it): a
registration, a change of title, content or subject of complaint, and a decision letter (the
reply, also when the documents app issues it) rewrite the petition's index row before commit, so
a rolled-back write leaves no index row behind and a committed one is findable at once."""

from __future__ import annotations

from typing import Any

from . import indexer


def on_petition_saved(
    sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return  # loading a fixture: the reindex command indexes those
    if created or update_fields is None or indexer.TEXT_FIELDS.intersection(update_fields):
        indexer.index_petition(instance)


def on_letter_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    indexer.index_petition(instance.petition)
