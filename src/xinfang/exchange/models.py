"""Models of exchange (see the package docstring)."""

from django.db import models  # noqa: F401
