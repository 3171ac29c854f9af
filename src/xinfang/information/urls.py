"""Staff pages of information reports, under ``/staff/information/``."""

from django.urls import path

from . import views

app_name = "information"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("inbox/", views.report_inbox, name="inbox"),
    path("new/", views.report_new, name="new"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/edit/", views.report_edit, name="edit"),
    path("<int:pk>/submit/", views.report_submit, name="submit"),
    path("<int:pk>/sign/", views.report_sign, name="sign"),
    path("<int:pk>/return/", views.report_return, name="return"),
    path("<int:pk>/send/", views.report_send, name="send"),
    path("<int:pk>/feedback/", views.report_feedback, name="feedback"),
    path("<int:pk>/print/", views.report_print, name="print"),
    path("<int:pk>/docx/", views.report_docx, name="docx"),
]
