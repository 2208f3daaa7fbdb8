"""URLs of the bare base domain: the landing page, the operators' Django admin and the mail
provider's installation-wide event webhook. No tenant data is reachable here."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("admin/", admin.site.urls),
    path("", include("channels.email.outbound_urls")),  # POST /email/events/<provider>/
]

handler404 = "helpdesk.views.handler404"
handler500 = "helpdesk.views.handler500"
