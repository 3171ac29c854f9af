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
    if created:
        indexer.petition_created(instance)
    elif update_fields is None or indexer.TEXT_FIELDS.intersection(update_fields):
        indexer.index_petition(instance)


def on_letter_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    indexer.index_petition(instance.petition)


def on_involvement_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A newly involved organisation (an assignment, a forward, supervision, a review body): its
    staff may now see the petition, so its scope tokens join the index row (models.py)."""
    if kwargs.get("raw") or not created:
        return
    indexer.add_scope(instance.petition, instance.organisation_path)


def on_involvement_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """No code deletes an involvement today; if one ever does, the tokens follow (they must name
    exactly who may see the petition)."""
    indexer.remove_scope(instance.petition_id)
