"""URLs of the bare base domain: the landing page and the operators' Django admin. No tenant
data is reachable here."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("admin/", admin.site.urls),
]

handler404 = "helpdesk.views.handler404"
handler500 = "helpdesk.views.handler500"
