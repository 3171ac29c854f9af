"""/staff/documents/batches/: 批量打印."""

from django.urls import path

from . import batch_views

app_name = "document_batches"

urlpatterns = [
    path("", batch_views.batch_list, name="list"),
    path("<int:pk>/download/", batch_views.batch_download, name="download"),
]
