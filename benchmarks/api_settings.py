"""Settings for the api benchmark: the platform's, plus a bench-only route and a plan without a
rate limit.

- ROOT_URLCONF (a tenant host's URLs) becomes benchmarks/urls.py: every tenant URL as it is, plus
  `/bench/raw-accounts`, the raw-SQL anchor endpoint (benchmarks/api_views.py).
- A plan "bench" is registered beside the real ones, with the enterprise plan's limits but an
  `api_requests_per_minute` no benchmark can reach; the benchmark's tenant is put on it. The rate
  limit middleware (api/limits.py) still runs on every /api/ and /graphql request (its cache
  counter included), it just never refuses one.

Selected with DJANGO_SETTINGS_MODULE by the harness, for itself and for the gunicorn server it starts.
"""

from billing.plans import PLANS, Plan
from crm_platform.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"

BENCH_PLAN = "bench"
PLANS[BENCH_PLAN] = Plan(BENCH_PLAN, "Bench", 800, 300, 1000, 200, api_requests_per_minute=10**9)
