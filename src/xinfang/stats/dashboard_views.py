"""(placeholder: filled in by issue #9 work)"""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
