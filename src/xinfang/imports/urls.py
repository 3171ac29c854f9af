"""/staff/imports/: 历史数据导入."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("template.xlsx", views.template, name="template"),
    path("<int:pk>/", views.run_detail, name="detail"),
    path("<int:pk>/progress.json", views.run_progress, name="progress"),
    path("<int:pk>/start/", views.run_start, name="start"),
    path("<int:pk>/discard/", views.run_discard, name="discard"),
    path("<int:pk>/report.<str:fmt>", views.run_report, name="report"),
]
