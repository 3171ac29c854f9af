"""Staff pages of the dispute screening ledger, under ``/staff/disputes/``."""

from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.ledger_view, name="ledger"),
    path("new/", views.create, name="new"),
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/new/", views.round_new, name="round_new"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("returns/", views.returns, name="returns"),
    path("returns/<int:pk>/", views.return_form, name="return"),
    path("briefings/", views.briefing_list, name="briefings"),
    path("briefings/<int:pk>/", views.briefing_detail, name="briefing"),
    path("briefings/<int:pk>/docx/", views.briefing_docx, name="briefing_docx"),
    path("figures/", views.figures_view, name="figures"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/edit/", views.edit, name="edit"),
    path("<str:number>/status/", views.change_status, name="status"),
    path("<str:number>/link/", views.link, name="link"),
    path("<str:number>/leader/", views.leader, name="leader"),
    path("<str:number>/parties/<int:pk>/reveal/", views.reveal, name="reveal"),
]
