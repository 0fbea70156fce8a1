"""Settings of the Celery workers the approval tests start themselves (tests/workflows/conftest.py).

The platform's settings, with two changes the tests need from outside the worker process:
- e-mails are written to files in TEST_EMAIL_FILE_PATH, where the test reads what was sent;
- with TEST_VISIBILITY_TIMEOUT, a message delivered and never acknowledged (its worker was killed)
  goes back to the queue after that many seconds instead of Redis's default hour, and a fresh
  worker looks for such messages every second.
"""

import os

from crm_platform.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["TEST_EMAIL_FILE_PATH"]

if os.environ.get("TEST_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ["TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
