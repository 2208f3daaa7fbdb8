"""Real Celery workers in the test suite (tests/workers) and the escalation bench: the test
settings, with persistent database connections as production has (the test settings open one
per task, which under a burst of tasks costs more than the tasks themselves)."""

from .test import *  # noqa: F403
from .test import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 60
