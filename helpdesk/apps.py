from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            auth,  # noqa: F401  (connects the session-to-tenant binding)
            configcache,
        )
        from .models import Organization

        configcache.watch(Organization)

        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # The embedded transport's spool folders must exist in every process (web enqueues,
            # worker consumes).
            for key in ("data_folder_in", "data_folder_out", "control_folder"):
                Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])).mkdir(
                    parents=True, exist_ok=True
                )
