"""Staff pages of the workflow app, under /staff/workflow/: deadline rules and the holiday calendar
and the routing rules (system administrator), and the transitions performed from the petition page."""

from django.urls import path

from . import actions, views

app_name = "workflow"

urlpatterns = [
    path("", views.rules, name="rules"),
    path("profiles/new/", views.profile_edit, name="profile_create"),
    path("profiles/<int:pk>/", views.profile_edit, name="profile_edit"),
    path("profiles/<int:pk>/rules/<str:step>/", views.rule_edit, name="rule_edit"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/new/", views.override_edit, name="override_create"),
    path("calendar/<int:pk>/", views.override_edit, name="override_edit"),
    path("calendar/years/", views.year_entered, name="year_entered"),
    path("routing/", views.routing_rules, name="routing_rules"),
    path("routing/<int:pk>/delete/", views.routing_rule_delete, name="routing_rule_delete"),
    path("petitions/<str:number>/<str:action>/", actions.act, name="act"),
]
