"""Staff pages of leadership (``/staff/leadership/``)."""

from django.urls import path

from . import views

app_name = "leadership"
urlpatterns = [
    path("", views.contract_list, name="index"),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/new/", views.contract_new, name="contract_new"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("contracts/<int:pk>/progress/", views.contract_progress, name="contract_progress"),
    path(
        "contracts/<int:pk>/milestones/<int:milestone_id>/done/", views.milestone_done, name="milestone_done"
    ),
    path("contracts/<int:pk>/close/", views.contract_close, name="contract_close"),
    path("policy/", views.policy, name="policy"),
    path("instructions/", views.instruction_list, name="instructions"),
    path("instructions/new/", views.instruction_new, name="instruction_new"),
    path("instructions/<int:pk>/", views.instruction_detail, name="instruction"),
    path("instructions/<int:pk>/answer/", views.instruction_answer, name="instruction_answer"),
    path("instructions/<int:pk>/return/", views.instruction_return, name="instruction_return"),
    path("instructions/<int:pk>/close/", views.instruction_close, name="instruction_close"),
    path("duty/", views.rota, name="rota"),
    path("duty/shifts/new/", views.shift_edit, name="shift_new"),
    path("duty/shifts/<int:pk>/", views.shift_detail, name="shift"),
    path("duty/shifts/<int:pk>/edit/", views.shift_edit, name="shift_edit"),
    path("duty/log/", views.duty_log, name="duty_log"),
]
