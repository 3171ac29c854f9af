from django.urls import path

from . import receipt_views, views

app_name = "petitions"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("register/", views.register, name="register"),
    path("register/repeats/", views.repeat_candidates, name="repeat_candidates"),
    path("petitions/<str:number>/", views.detail, name="detail"),
    path("petitions/<str:number>/print/", views.print_view, name="print"),
    path("petitions/<str:number>/personal-data/", views.reveal, name="reveal"),
    path("petitions/<str:number>/query-code/", views.reissue_code, name="reissue_code"),
    path("petitions/<str:number>/receipt/", receipt_views.receipt, name="receipt"),
    path("petitions/<str:number>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("categories/", views.categories, name="categories"),
    path("categories/new/", views.category_edit, name="category_create"),
    path("categories/<int:pk>/", views.category_edit, name="category_edit"),
]
