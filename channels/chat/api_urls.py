"""/api/v1/ routes of the chat channel (included from helpdesk.api.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
