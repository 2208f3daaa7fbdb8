"""Console pages of the email channel: the tenant's addresses and the quarantine (under /manage/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
