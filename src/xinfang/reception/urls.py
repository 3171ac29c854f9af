"""Staff pages of reception days (``/staff/reception/``)."""

from django.urls import path

from . import views

app_name = "reception"
urlpatterns = [
    path("", views.day, name="day"),
    path("print/", views.day_print, name="day_print"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:pk>/", views.session, name="session"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/swap/", views.session_swap, name="session_swap"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/new/", views.schedule_new, name="schedule_new"),
    path("schedules/<int:pk>/", views.schedule_edit, name="schedule_edit"),
    path("bookings/<int:pk>/", views.booking, name="booking"),
    path("bookings/<int:pk>/mark/", views.booking_mark, name="booking_mark"),
    path("bookings/<int:pk>/register/", views.booking_register, name="booking_register"),
    path("outreach/", views.outreach_list, name="outreach_list"),
    path("outreach/print/", views.outreach_print, name="outreach_print"),
    path("outreach/new/", views.outreach_new, name="outreach_new"),
    path("outreach/<int:pk>/", views.outreach, name="outreach"),
]
