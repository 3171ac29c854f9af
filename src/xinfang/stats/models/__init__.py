"""The stats app's models, one module per area: counts (the roll-up), assessment, reports."""

from .assessment import (
    AssessmentPublication,
    AssessmentResult,
    AssessmentScheme,
    BonusItem,
    Deduction,
    Indicator,
    SchemeStatus,
)
from .counts import CountBase, DailyCount, Dimension, DirtyDay, MonthlyCount, RefreshState
from .reports import ReportKind, ReportTemplate

__all__ = [
    "AssessmentPublication",
    "AssessmentResult",
    "AssessmentScheme",
    "BonusItem",
    "CountBase",
    "DailyCount",
    "Deduction",
    "Dimension",
    "DirtyDay",
    "Indicator",
    "MonthlyCount",
    "RefreshState",
    "ReportKind",
    "ReportTemplate",
    "SchemeStatus",
]
