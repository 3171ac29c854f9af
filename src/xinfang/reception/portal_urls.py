"""Public pages of reception days (``/portal/reception/``): the published schedule and a citizen's
booking and cancellation (《信访工作条例》第十八条)."""

from django.urls import path

from . import portal_views

app_name = "reception_portal"
urlpatterns = [
    path("", portal_views.schedule, name="list"),
    path("<int:pk>/book/", portal_views.book, name="book"),
    path("booked/", portal_views.booked, name="booked"),
    path("cancel/", portal_views.cancel, name="cancel"),
]
