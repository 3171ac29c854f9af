"""Fixtures of the petition service tests: a private MEDIA_ROOT and a snapshot of everything a
registration stores, to prove that a refused or failed registration stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import (
    Attachment,
    Involvement,
    NumberSequence,
    Petition,
    Petitioner,
    PetitionEvent,
)

from ..factories import register


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Each test writes attachments to its own directory, never to the shared var/test-media."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@dataclass(frozen=True)
class StoreSnapshot:
    """Row counts of every table a registration writes, the number sequences, the stored files."""

    counts: dict[str, int]
    sequences: dict[int, tuple[int, int, int]]
    files: frozenset[str]


@pytest.fixture
def snapshot(media_root) -> Callable[[], StoreSnapshot]:
    def take() -> StoreSnapshot:
        models = (Petition, Petitioner, Attachment, Involvement, PetitionEvent, AuditEvent, NumberSequence)
        return StoreSnapshot(
            counts={m.__name__: m.objects.count() for m in models},
            sequences={
                pk: (office, year, last)
                for pk, office, year, last in NumberSequence.objects.values_list(
                    "pk", "office_id", "year", "last"
                )
            },
            files=frozenset(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()),
        )

    return take


@pytest.fixture
def petition_a(world) -> Petition:
    """A complaint registered by county A's petition office about a matter in its town."""
    return register(world.a.office, world.intake_a, world.a.township).petition
