"""URLs of a tenant's host (``{slug}.{base domain}``)."""

from django.urls import include, path

from . import profile, views

urlpatterns = [
    path("", views.portal_home, name="portal-home"),
    path("brand.css", views.brand_css, name="brand-css"),
    path("accounts/", include("allauth.urls")),
    path("profile/", profile.profile, name="profile"),
    path("api/v1/", include("helpdesk.api.urls")),
    path("kb/", include("kb.urls")),
    path("", include("channels.notifications.urls")),  # agent notifications, page ack
    path("", include("tickets.urls")),
    path("", include("channels.chat.urls")),
    path("", include("channels.phone.urls")),
    path("", include("channels.email.inbound_urls")),  # the provider inbound webhook
    path("manage/reports/", include("reports.urls")),
    path("manage/", include("console.urls")),
]

handler404 = "helpdesk.views.handler404"
handler500 = "helpdesk.views.handler500"
