from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:key>/", views.notice_list, name="list"),
]
