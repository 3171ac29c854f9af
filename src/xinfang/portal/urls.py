from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submitted/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    # The petition bound to this browser session by a successful track (never the code in a URL).
    path("track/<str:number>/", views.petition, name="petition"),
    path("track/<str:number>/forget/", views.forget, name="forget"),
    # Documents issued to the petitioner (issue #10 point 9): PDF download and 确认收到.
    path("track/<str:number>/documents/<int:document_id>.pdf", views.document_pdf, name="document_pdf"),
    path(
        "track/<str:number>/documents/<int:document_id>/confirm/",
        views.document_confirm,
        name="document_confirm",
    ),
    path("track/<str:number>/<slug:action>/", views.act, name="act"),
]
