"""Who may see which petitions: the one choke point for every read (UI, API, search, exports, counts).

Rule (issue #2, point 3): a staff member with a casework role sees the petitions registered by,
assigned to, or supervised by their organisation and its subtree — and nothing else.  A petition
office (信访局) oversees petition work for its whole level (条例 Art. 13, 40), so for its staff the
subtree is that of the government it belongs to: a city petition office sees the city's counties.
Administrators (the three separated duties) see no petition at all.  A confidential report (检举控告) is never
visible to the organisation it complains about or to anyone inside it (条例 Art. 30 ¶3), except
the office that registered it, and that only until it has sent the report on (issue #7 point 2).
A staff member who stepped aside (回避, Art. 28 ¶3) no longer sees the petition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind
from xinfang.organisations.models import Organisation

if TYPE_CHECKING:
    from .models import Petition, PetitionQuerySet


# The states in which the registering office disposes of a petition (transitions._DISPOSABLE).
ROUTED_BY_OFFICE = ("registered", "returned")


class PetitionNotFound(LookupError):
    """Raised for a petition that does not exist *or* that the user may not see: the two are
    indistinguishable to the caller on purpose (no existence leak through 403 vs 404)."""


def restrict_petitions(qs: PetitionQuerySet, user: Any, action: str = "view") -> PetitionQuerySet:
    """Narrow ``qs`` to what ``user`` may ``action`` (only "view" and "change" exist so far)."""
    from .models import Involvement, Recusal

    if action not in {"view", "change"}:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    org = user.organisation
    if org is None or not user.role_codes & CASEWORK_ROLES:
        return qs.none()
    visible = Involvement.objects.filter(organisation_path__startswith=scope_root(org).path).values(
        "petition_id"
    )
    own_line = [int(p) for p in org.path.strip("/").split("/") if p]  # my organisation and its ancestors
    # Everyone inside the accused organisation loses sight of a report (Art. 30 ¶3).  The one
    # exception is the office that registered it, while the report waits for it to be routed: a
    # report against that office itself or against its government must be sent up by it, and once
    # sent the office never sees it again (issue #7 point 2; the engine lets it only forward).
    routing_by_me = Q(office_id=org.pk) & Q(status__in=ROUTED_BY_OFFICE)
    accused_me = Q(is_confidential=True) & Q(subject_organisation_id__in=own_line) & ~routing_by_me
    recused = Recusal.objects.filter(user=user).values("petition_id")  # Art. 28 ¶3
    return qs.filter(pk__in=visible).exclude(accused_me).exclude(pk__in=recused)


def without_scope_join(qs: PetitionQuerySet, root: Organisation) -> PetitionQuerySet:
    """``qs`` (restricted by ``restrict_petitions``) without the semi-join of the scope rooted at
    ``root`` — for a caller that puts the same condition into an index it already reads: the full-
    text search ANDs the scope's token into its match (``search.indexer.scope_tokens``: one
    token per organisation on the tree path of every involved organisation, written and removed
    with the involvements, so "the token is in the row" holds exactly when "an involvement lies in
    the subtree" does).  Every other condition of the rule (the accused, recusals) stays.  When
    the join is not found exactly once, ``qs`` is returned unchanged: the rule is never loosened
    by guessing."""
    from django.db.models.lookups import In, StartsWith

    from .models import Involvement

    def is_scope_join(node: Any) -> bool:
        if not (isinstance(node, In) and getattr(node.lhs, "target", None) is not None):
            return False
        inner = getattr(node.rhs, "model", None) is Involvement and node.rhs.where.children
        return (
            node.lhs.target.primary_key
            and bool(inner)
            and len(inner) == 1
            and isinstance(inner[0], StartsWith)
            and inner[0].lhs.target.name == "organisation_path"
            and inner[0].rhs == root.path
        )

    where = qs.query.where
    found = [child for child in where.children if is_scope_join(child)]
    if len(found) != 1 or where.connector != "AND" or where.negated:
        return qs
    clone = qs.all()
    clone.query.where.children = [c for c in clone.query.where.children if not is_scope_join(c)]
    return clone


def scope_root(org: Organisation) -> Organisation:
    """The top of the subtree whose petitions the staff of ``org`` see."""
    if org.kind == OrganisationKind.PETITION_OFFICE and org.parent_id is not None:
        return org.parent
    return org


def access_petition(user: Any, number: str, action: str = "view") -> Petition:
    """Fetch a petition by number and authorise in one step; absent and forbidden look the same."""
    from .models import Petition

    try:
        return Petition.objects.restrict(user, action).get(number=number)
    except Petition.DoesNotExist:
        raise PetitionNotFound(number) from None
