"""The audit page's Chinese for what the procedure writes (audit/labels.py; issue #7 point 23).

The audit app sits below this one and cannot import it, so ``WorkflowConfig.ready`` registers the
labels: every transition's action code ``petition.<action>`` takes the transition table's own
label, and the coded values in its details (states, outcomes, kinds …) their choices' labels.
"""

from __future__ import annotations

from xinfang.audit import labels
from xinfang.petitions.choices import Channel, Conclusion, Status

from .models import AppealKind, AppealOutcome, AssignmentKind, PeriodUnit, Rating, ReplyOutcome, Step
from .transitions import TRANSITIONS


def register_audit_labels() -> None:
    labels.register(
        actions={f"petition.{code}": transition.label for code, transition in TRANSITIONS.items()},
        values={
            "from": dict(Status.choices),
            "to": dict(Status.choices),
            "channel": dict(Channel.choices),
            "conclusion": dict(Conclusion.choices),
            "outcome": {**dict(ReplyOutcome.choices), **dict(AppealOutcome.choices)},
            "kind": {**dict(AssignmentKind.choices), **dict(AppealKind.choices)},
            "step": dict(Step.choices),
            "unit": dict(PeriodUnit.choices),  # a deadline rule's unit; organisation ids are ints
            "office_rating": dict(Rating.choices),
            "unit_rating": dict(Rating.choices),
        },
    )
