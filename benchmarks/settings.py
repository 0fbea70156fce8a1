"""Settings for the deploy benchmark: the platform's, plus a bench-only tenant app.

`benchmarks.benchapp` gives the deploy benchmark a migration (0002) of its own to apply to every
tenant, without touching the real apps. It is installed only when DJANGO_SETTINGS_MODULE names
this module, which the harness sets for itself and for the worker processes it starts.
"""

from crm_platform.settings import *  # noqa: F403
from crm_platform.settings import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "benchmarks.benchapp"]
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.benchapp"]
