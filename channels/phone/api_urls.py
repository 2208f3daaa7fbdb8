"""/api/v1/ routes of the phone channel (included from helpdesk.api.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
