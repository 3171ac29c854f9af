"""Public pages of reception days: the published schedule and a citizen's booking (Art. 18)."""

from django.urls import path  # noqa: F401

app_name = "reception_portal"
urlpatterns: list = []
