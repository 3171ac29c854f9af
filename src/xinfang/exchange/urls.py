"""Staff pages of exchange (``/staff/referrals/``)."""

from django.urls import path

from . import views

app_name = "exchange"
urlpatterns: list = [
    path("", views.received, name="received"),
    path("received/<int:pk>/", views.received_detail, name="received_detail"),
    path("received/<int:pk>/reports/<int:report_pk>.docx", views.report_file, name="report_file"),
    path("sent/", views.sent, name="sent"),
    path("sent/new/", views.refer_form, name="refer"),
    path("sent/<int:pk>/", views.sent_detail, name="sent_detail"),
    path("sent/<int:pk>/report.docx", views.sent_file, name="sent_file"),
    path("peers/", views.peers, name="peers"),
    path("peers/new/", views.peer_form, name="peer_new"),
    path("peers/<int:pk>/", views.peer_form, name="peer_edit"),
]
