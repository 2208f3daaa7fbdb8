"""Console pages of the service area (included from console.urls under /manage/): calendars,
packages with their SLA matrix and the SLA policy, escalation rules and the on-call roster."""

from django.urls import path

from . import calendar_views, escalation_views, package_views

urlpatterns = [
    path("calendars/", calendar_views.calendar_list, name="console-calendar-list"),
    path("calendars/new/", calendar_views.calendar_new, name="console-calendar-new"),
    path("calendars/<int:pk>/", calendar_views.calendar_edit, name="console-calendar-edit"),
    path(
        "calendars/<int:pk>/delete/",
        calendar_views.calendar_delete_view,
        name="console-calendar-delete",
    ),
    path(
        "calendars/<int:pk>/holidays/import/",
        calendar_views.calendar_holidays_import_view,
        name="console-calendar-holidays-import",
    ),
    path("packages/", package_views.package_list, name="console-package-list"),
    path("packages/new/", package_views.package_new, name="console-package-new"),
    path("packages/policy/", package_views.package_policy, name="console-package-policy"),
    path("packages/<int:pk>/", package_views.package_edit, name="console-package-edit"),
    path(
        "packages/<int:pk>/delete/",
        package_views.package_delete_view,
        name="console-package-delete",
    ),
    path("escalation/", escalation_views.escalation_policy, name="console-escalation"),
    path("escalation/on-call/", escalation_views.on_call_list, name="console-escalation-oncall"),
    path(
        "escalation/on-call/<int:pk>/",
        escalation_views.on_call_edit,
        name="console-escalation-oncall-edit",
    ),
    path(
        "escalation/on-call/<int:pk>/delete/",
        escalation_views.on_call_delete,
        name="console-escalation-oncall-delete",
    ),
]
