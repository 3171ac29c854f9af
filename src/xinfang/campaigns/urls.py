"""Staff pages of campaigns (``/staff/campaigns/``)."""

from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/cases/", views.campaign_add_cases, name="add_cases"),
    path("<int:pk>/status/", views.campaign_status, name="status"),
    path("<int:pk>/report.docx", views.closing_report, name="report"),
    path("cases/", views.my_cases, name="my_cases"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("backlog/", views.backlog_list, name="backlog"),
    path("backlog/add/", views.backlog_add, name="backlog_add"),
    path("backlog/rule/", views.backlog_rule, name="backlog_rule"),
    path("relief/", views.relief_list, name="relief"),
    path("relief/new/", views.relief_new, name="relief_new"),
    path("relief/<int:pk>/", views.relief_detail, name="relief_detail"),
]
