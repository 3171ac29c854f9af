"""Staff pages of reception."""

from django.urls import path  # noqa: F401

app_name = "reception"
urlpatterns: list = []
