from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("password/", views.password, name="password"),
    path("staff/<int:pk>/", views.member, name="member"),
    path("staff/<int:pk>/<slug:action>/", views.member_action, name="member_action"),
]
