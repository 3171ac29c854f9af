from django.urls import path

from . import views

app_name = "search"

urlpatterns = [
    path("terms/", views.terms, name="terms"),
    path("terms/<int:pk>/delete/", views.delete_term, name="delete_term"),
]
