"""URLs of the 约谈 / 通报 / 改进工作建议 pages, under ``/staff/accountability/``."""

from django.urls import path

from . import accountability_views as views

app_name = "accountability"

urlpatterns = [
    path("", views.accountability_list, name="list"),
    path("new/", views.accountability_new, name="new"),
    path("<int:pk>/", views.accountability_detail, name="detail"),
    path("<int:pk>/response/", views.accountability_respond, name="respond"),
    path("<int:pk>/close/", views.accountability_close, name="close"),
]
