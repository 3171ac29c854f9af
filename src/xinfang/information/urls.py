"""Staff pages of information."""

from django.urls import path  # noqa: F401

app_name = "information"
urlpatterns: list = []
