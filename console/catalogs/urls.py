"""Console pages of the catalogs area (included from console.urls under /manage/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
