"""Staff pages of the API app (the API itself is mounted from v1.py)."""

from django.urls import path

from . import views

app_name = "api-staff"
urlpatterns = [
    path("", views.tokens, name="tokens"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
]
