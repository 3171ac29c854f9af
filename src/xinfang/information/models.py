"""Models of information (see the package docstring)."""

from django.db import models  # noqa: F401
