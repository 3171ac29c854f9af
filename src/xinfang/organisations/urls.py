from django.urls import path

from . import views

app_name = "organisations"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.edit, name="edit"),
    path("import/", views.import_csv, name="import"),
    path("staff/", views.staff, name="staff"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_roles, name="staff_roles"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:pk>/", views.grant, name="grant"),
]
