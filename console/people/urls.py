"""Console pages of the people area (included from console.urls under /manage/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
