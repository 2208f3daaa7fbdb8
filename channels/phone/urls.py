"""Pages of the phone channel (included at the tenant host's root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("phone/", views.portal_phone, name="phone-portal"),
    path("agent/phone/", views.agent_call, name="agent-phone"),
    path("manage/phone/", views.console_phone, name="console-phone"),
]
