"""/staff/stats/: figures, dashboards, assessment, reports and deadline violations.  Each page
module lists its own ``urlpatterns``; they are joined here under one namespace."""

from __future__ import annotations

from . import assessment_views, dashboard_views, report_views, views, violation_views

app_name = "stats"
urlpatterns = [
    *views.urlpatterns,
    *dashboard_views.urlpatterns,
    *assessment_views.urlpatterns,
    *report_views.urlpatterns,
    *violation_views.urlpatterns,
]
