"""What each kind of document is made of: who issues it, to whom, its editable body fields, the
body drawn from what the procedure already holds, and what issuing and serving it do in the
procedure (issue #10 point 3).  ``services`` works through this table and knows no kind by name.

A kind's ``build(petition)`` returns the initial body (a dict of strings) and where it comes from:
the drafter may edit the ``fields`` listed as editable before issue; everything else in the body is
drawn from the record and printed as it is.  ``on_issue`` performs the workflow step the document
completes (the reply, the review or recheck opinion) inside the issuing transaction; ``on_service``
starts the petitioner's windows from the day of service (``workflow.appeals``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import OrganisationKind

from .choices import Addressee, DocumentKind

if TYPE_CHECKING:
    from xinfang.organisations.models import Organisation
    from xinfang.petitions.models import Petition

    from .models import Document


@dataclass(frozen=True)
class BodyField:
    """One field of the body the drafter fills or corrects."""

    name: str
    label: Any
    required: bool = True
    multiline: bool = True
    choices: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Kind:
    code: str
    # The letter in the reference number after the office's short name (青信 + 受 → 青信受〔2026〕1号).
    prefix_letter: str
    addressee: str  # Addressee
    fields: tuple[BodyField, ...] = ()
    # The initial body from the petition (and the record the step left: a decision letter, an appeal…).
    build: Callable[[Petition], dict[str, Any]] = lambda petition: {}
    # Whether the petition has reached the step that calls for this document (None: never offered).
    available: Callable[[Petition], bool] = lambda petition: True
    # Who issues it: the organisation whose document it is (the office, the handling unit, the body).
    issuer: Callable[[Petition], Organisation] = lambda petition: petition.office
    # The addressee unit for documents addressed to a unit (转送单, 交办单, 督办函).
    addressee_unit: Callable[[Petition], Organisation | None] = lambda petition: None
    # Names the template prints beyond the body and ``rendering.common_context`` (e.g. a choice's label).
    context: Callable[[Document], dict[str, Any]] = lambda document: {}
    on_issue: Callable[[Document, Any], None] | None = None
    on_service: Callable[[Document], None] | None = None
    requires_approval: bool = False  # the default; KindSetting overrides it per organisation
    # Issuing this document is how the step is taken (reply, review, recheck): the action panel
    # sends the user here instead of performing the transition directly.
    completes_step: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return DocumentKind(self.code).label


KINDS: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    for kind in kinds:
        KINDS[kind.code] = kind


def kind(code: str) -> Kind:
    return KINDS[code]


def short_name(organisation: Organisation) -> str:
    """The office's short name in reference numbers: the first character of the name of the
    government it belongs to (青山县信访局 → 青), the way offices abbreviate."""
    name = organisation.name
    if organisation.kind == OrganisationKind.PETITION_OFFICE and organisation.parent is not None:
        name = organisation.parent.name
    return name[:1]


def default_prefix(organisation: Organisation, code: str) -> str:
    """青 + 信 + 受 for a petition office; a department or government uses its own first two
    characters and the kind's letter (青山县人社局 → 青山 + 处 → 青山处)."""
    letter = KINDS[code].prefix_letter
    if organisation.kind == OrganisationKind.PETITION_OFFICE:
        return f"{short_name(organisation)}信{letter}"
    return f"{organisation.name[:2]}{letter}"


def for_petitioner(petition: Petition) -> str:
    """The addressee of a letter to the petitioner: the representative (or first) petitioner."""
    first = sorted(petition.petitioners.all(), key=lambda p: (not p.is_representative, p.position))
    return first[0].name if first else _("信访人")


# The kinds themselves are declared in ``kinds_table`` (imported by DocumentsConfig.ready), so this
# module stays importable without the workflow.
__all__ = ["KINDS", "Addressee", "BodyField", "Kind", "default_prefix", "kind", "register"]
