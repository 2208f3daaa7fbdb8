"""Console pages of the email channel (under /manage/): the tenant's addresses, the inbound
log and the quarantine."""

from django.urls import URLPattern, path

from . import console_views as views

urlpatterns: list[URLPattern] = [
    path("email/", views.email_index, name="console-email"),
    path("email/addresses/<int:pk>/", views.mailbox_edit, name="console-email-mailbox"),
    path(
        "email/addresses/<int:pk>/delete/",
        views.mailbox_remove,
        name="console-email-mailbox-delete",
    ),
    path("email/log/", views.inbound_log, name="console-email-log"),
    path("email/quarantine/", views.quarantine_list, name="console-email-quarantine"),
    path(
        "email/quarantine/<int:pk>/",
        views.quarantine_detail,
        name="console-email-quarantine-detail",
    ),
    path(
        "email/quarantine/<int:pk>/raw/",
        views.quarantine_raw,
        name="console-email-quarantine-raw",
    ),
]
