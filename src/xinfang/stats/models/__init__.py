"""The stats app's models, one module per area: counts (the roll-up), assessment, reports."""

from .counts import CountBase, DailyCount, Dimension, DirtyDay, MonthlyCount, RefreshState

__all__ = ["CountBase", "DailyCount", "Dimension", "DirtyDay", "MonthlyCount", "RefreshState"]
