from django.urls import path

from . import views

app_name = "workbench"
urlpatterns = [
    path("workbench/", views.workbench, name="home"),
    path("workbench/export/<slug:key>/", views.export_section, name="export_section"),
    path("export/", views.export_queue, name="export_queue"),
]
