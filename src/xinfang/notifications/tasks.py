"""Worker tasks: sending the outbox.  (Filled in below; see ``delivery``.)"""

from __future__ import annotations

from .delivery import deliver, deliver_pending

__all__ = ["deliver", "deliver_pending"]
