"""Pages of the phone channel (included at the tenant host's root)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
