from django.urls import path

from . import receipt_views, views

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("new/<str:number>/<str:kind>/", views.draft, name="draft"),
    path("receipt/<str:number>/", receipt_views.receipt_pdf, name="receipt_pdf"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/issue/", views.issue, name="issue"),
    path("<int:pk>/service/", views.serve, name="serve"),
    path("<int:pk>/print/", views.print_view, name="print"),
    path("<int:pk>/docx", views.download_docx, name="docx"),
    path("<int:pk>/pdf", views.download_pdf, name="pdf"),
    path("templates/", views.templates_index, name="templates"),
    path("templates/<str:kind>/upload/", views.template_upload, name="template_upload"),
    path("templates/<str:kind>/download/", views.template_download, name="template_download"),
    path("settings/", views.settings_index, name="settings"),
]
