"""A value read from the database and kept per process for a short while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProcessCache(Generic[T]):
    """``load()``'s result, reused for ``seconds`` in this process, dropped at once by ``clear()``.

    For small tables read on every request (deadline rules, holiday overrides): a save clears the
    saving process's copy at once; other processes see the change within ``seconds``.
    """

    def __init__(self, load: Callable[[], T], seconds: float) -> None:
        self._load = load
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entry: tuple[float, T] | None = None

    def get(self) -> T:
        entry = self._entry
        if entry is not None and time.monotonic() - entry[0] < self.seconds:
            return entry[1]
        with self._lock:
            value = self._load()
            self._entry = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        self._entry = None
