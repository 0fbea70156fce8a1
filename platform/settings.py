"""Django settings, read from the environment (see README "Configuration").

Production is the default: DEBUG off, a secret key required, secure cookies and HSTS. The
development runner (`dev.py`) sets DEBUG=1 and a local database explicitly.
"""

from pathlib import Path
from urllib.parse import parse_qs

import dj_database_url

from crm_platform import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.flag("DEBUG", False)
SECRET_KEY = env.text("SECRET_KEY") or ("insecure-dev-only-key" if DEBUG else env.required("SECRET_KEY"))

# Tenants live at <slug>.<BASE_DOMAIN>; the bare BASE_DOMAIN is the public control plane.
BASE_DOMAIN = env.text("BASE_DOMAIN", "localhost").lower()
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *filter(None, env.text("EXTRA_ALLOWED_HOSTS").split(","))]

# TLS terminates at the ingress; trust its X-Forwarded-Proto only when told to.
BEHIND_TLS = env.flag("BEHIND_TLS", not DEBUG)
if BEHIND_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.integer("HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# The standard objects, one app per domain (see crm/__init__.py).
CRM_APPS = [
    "crm.records",
    "crm.customers",
    "crm.activities",
    "crm.sales",
    "crm.catalog",
    "crm.quotes",
    "crm.contracts",
    "crm.orders",
    "crm.finance",
    "crm.service",
    "crm.dealers",
]
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "crm_platform",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    # The user table exists in every schema: in public it holds platform staff, in a tenant
    # schema that company's users. The host decides which one a login is checked against.
    # Listed before admin so its sign-in templates win over the admin's.
    "accounts",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    # The per-tenant OpenAPI document (api/openapi/) and its interactive docs; the sidecar serves
    # Swagger UI as our own static files, so no page loads anything from a CDN.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # GraphiQL at /graphql: graphene-django's page script, and its React assets as our own static
    # files (graphene-django-graphiql-static), again with no CDN.
    "graphene_django",
    "graphene_django_graphiql_static",
    # Platform staff and tenant roles are audited in every schema, public included.
    "pgtrigger",
    "pghistory",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "channels",
    "metadata",
    "access",
    # The audit trail: pgtrigger installs row triggers, pghistory's context table says who acted.
    "pgtrigger",
    "pghistory",
    *CRM_APPS,
    "workflows",
    "api",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "crm_platform.urls_public"
ROOT_URLCONF = "crm_platform.urls_tenant"
TENANT_LIMIT_SET_CALLS = True
# `migrate_schemas` skips up-to-date schemas, migrates the sign-up template first, then runs the
# rest in parallel with progress (tenants/migrate_executor.py).
GET_EXECUTOR_FUNCTION = "tenants.migrate_executor.get_executor"
TENANT_TEMPLATE_SCHEMA = "tenant_template"
MIGRATE_PARALLEL = env.integer("MIGRATE_PARALLEL", 2)

MIDDLEWARE = [
    "crm_platform.observability.RequestContextMiddleware",
    "crm_platform.health.HealthCheckMiddleware",
    "tenants.middleware.TenantHostMiddleware",
    "metadata.middleware.PinnedMetadataMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Per-tenant API rate limit and body size: after host routing (the tenant) and the locale
    # (the language of its problem documents).
    "api.limits.ApiLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.SuspendedTenantMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "crm_platform.wsgi.application"


def _database() -> dict:
    config = dj_database_url.parse(env.required("DATABASE_URL"))
    config["ENGINE"] = "django_tenants.postgresql_backend"
    # Django's psycopg pool, not PgBouncer: django-tenants sets search_path per session, which
    # transaction pooling would leak across tenants. Connections are recycled because each
    # backend's catalog cache grows with every tenant table it touches and is never evicted.
    # PostgreSQL's default random_page_cost (4) prices spinning disks; on SSDs 1.1 is usual. At 4 the
    # planner serves a dealer's page by walking the primary key rather than its ancestor index
    # (access/ancestors.py): a near tie at 1,000,000 records, lost at 100,000.
    options = config.setdefault("OPTIONS", {})
    planner = f"-c random_page_cost={env.positive_number('PG_RANDOM_PAGE_COST', 1.1)}"
    options["options"] = f"{planner} {options['options']}" if options.get("options") else planner
    if env.flag("DB_POOL", True):
        config["CONN_MAX_AGE"] = 0
        options["pool"] = {
            "min_size": env.integer("DB_POOL_MIN", 1),
            "max_size": env.integer("DB_POOL_MAX", 10),
            "max_lifetime": env.integer("DB_POOL_MAX_LIFETIME", 600),
            "timeout": 10,
        }
    else:
        config["CONN_MAX_AGE"] = env.integer("DB_CONN_MAX_AGE", 60)
    return config


DATABASES = {"default": _database()}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = env.text("CELERY_BROKER_URL") or env.text("REDIS_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message whose worker died is redelivered after this many seconds (Redis's default is an hour).
# Longer than any task runs, or a slow task would be delivered twice (every task is idempotent,
# but twice the work): index builds and large re-scopes are the long ones.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", 1800)}
# Periodic per-tenant jobs: dotted path of an idempotent service function -> interval in seconds.
# Beat fires tenants.tasks.fan_out(job), which runs the job once inside every active tenant.
TENANT_JOBS = {
    "crm.customers.pool.return_idle_accounts": 3600,
    "crm.activities.services.remind_due_follow_ups": 3600,
    "crm.activities.visits.mark_missed_visits": 3600,
    "crm.service.sla.flag_sla_breaches": 900,
    "crm.finance.reminders.remind_overdue_instalments": 6 * 3600,
    "crm.quotes.services.expire_quotes": 24 * 3600,
    "crm.contracts.renewals.remind_renewals": 24 * 3600,
    "crm.contracts.renewals.expire_contracts": 24 * 3600,
    "crm.dealers.registrations.expire_registrations": 24 * 3600,
    "api.idempotency.purge_expired_keys": 3600,
    # Approval deadlines: reminders, then each overdue task's action (escalate, decide...).
    "workflows.deadlines.run_deadlines": 300,
    # Outgoing webhooks: re-queue due retries (and any first attempt whose task was lost), purge old logs.
    "api.webhooks.delivery.retry_due_deliveries": 60,
    "api.webhooks.delivery.purge_old_deliveries": 24 * 3600,
}
CELERY_BEAT_SCHEDULE = {
    job: {"task": "tenants.tasks.fan_out", "schedule": seconds, "args": [job]}
    for job, seconds in TENANT_JOBS.items()
} | {"refill-ready-schemas": {"task": "tenants.tasks.refill_ready_schemas", "schedule": 60}}
# Tenant schemas kept built ahead of sign-ups (tenants/provisioning/ready_pool.py); 0 turns it off.
READY_SCHEMAS = env.integer("READY_SCHEMAS", 3)
# A tree move re-placing more records than this runs in the background (access/rescope.py).
RESCOPE_INLINE_LIMIT = env.integer("RESCOPE_INLINE_LIMIT", 10_000)
CELERY_TASK_SERIALIZER = "json"
# Outgoing webhooks (api/webhooks/). Private, loopback and link-local targets are refused (SSRF:
# a tenant's URL must not reach our own network or the cloud metadata service) unless this is on,
# as in development and the tests, whose receivers listen on 127.0.0.1.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.flag("WEBHOOKS_ALLOW_PRIVATE_TARGETS", DEBUG)
WEBHOOKS_TIMEOUT = env.integer("WEBHOOKS_TIMEOUT", 10)  # seconds per attempt
# Seconds to wait before each retry (jittered up to +20%); one attempt more than there are delays.
WEBHOOKS_RETRY_DELAYS = [
    int(seconds) for seconds in env.text("WEBHOOKS_RETRY_DELAYS", "60,300,1800,7200,28800,86400").split(",")
]
WEBHOOKS_DISABLE_AFTER = env.integer("WEBHOOKS_DISABLE_AFTER", 20)  # failed deliveries in a row
WEBHOOKS_KEEP_DAYS = env.integer("WEBHOOKS_KEEP_DAYS", 30)  # the delivery log


def _cache() -> dict:
    """Redis at REDIS_URL, else the Celery broker when that is Redis: the API rate-limit counters
    (api/limits.py) must be shared by every web process. Without Redis (a fresh machine running
    the demo) a per-process memory cache, where each process counts on its own."""
    url = env.text("REDIS_URL")
    if not url and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        url = CELERY_BROKER_URL
    elif not url and CELERY_BROKER_URL.startswith("redis+socket://"):
        # Kombu's Unix-socket form (dev.py's embedded Redis); redis-py spells it unix://?db=N.
        path, _, query = CELERY_BROKER_URL.removeprefix("redis+socket://").partition("?")
        url = f"unix://{path}?db={parse_qs(query).get('virtual_host', ['0'])[0]}"
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        # An unreachable Redis must cost a request little: the rate limit lets requests through
        # when the cache fails, but only once the connection attempt gives up.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


CACHES = {"default": _cache()}
# The largest request body /api/ and /graphql accept, by Content-Length (api/limits.py).
API_MAX_BODY_BYTES = env.integer("API_MAX_BODY_BYTES", 5 * 1024 * 1024)
# Django's own cap on a body read into memory: the same, so one limit holds whichever reads it.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

EMAIL_BACKEND = env.text("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", f"no-reply@{BASE_DOMAIN}")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "CNY"
# Phone numbers without a country prefix are read as numbers of this region.
DEFAULT_PHONE_REGION = "CN"

STATIC_URL = "static/"
DATA_ROOT = Path(env.text("DATA_ROOT", str(BASE_DIR / ".devdata")))
STATIC_ROOT = Path(env.text("STATIC_ROOT", str(DATA_ROOT / "static")))
TENANT_EXPORT_ROOT = DATA_ROOT / "tenant-exports"
# Attachments: one folder per tenant schema under MEDIA_ROOT (django-tenants' tenant-aware storage).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.text("MEDIA_ROOT", str(DATA_ROOT / "media")))
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    # Bearer first: DRF takes the 401 challenge (WWW-Authenticate) from the first class. Sessions
    # still enforce CSRF on unsafe methods; bearer tokens need none (a browser never sends them).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.permissions.TokenScopes",
    ],
    "UNAUTHENTICATED_USER": None,
    # The views' OpenAPI descriptions (api/openapi/).
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI 3.0.3 document: generic REST paths from drf-spectacular, expanded per tenant object
# by api/openapi/ (served at /api/v1/openapi.json, browsable at /api/v1/docs).
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "The REST API of one CRM (one tenant, on its own host). Every object, standard or custom, "
        "is a resource under `/api/v1/records/<object>`, typed with the tenant's custom fields "
        "(under `custom`). Lists take a `filter` in the CRM's filter language (JSON), `sort`, "
        "`fields` and keyset pages (`limit`, `after`). Writes accept `Idempotency-Key`; changes "
        "accept `If-Match`. Every error is an RFC 9457 problem document (`application/problem+json`) "
        "with field-level `errors: [{field, code, message}]` in the caller's language."
    ),
    # 3.0.3, not 3.1: the version client generators and Schemathesis support best.
    "OAS_VERSION": "3.0.3",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Request and response shapes are separate components already (Account, AccountInput).
    "COMPONENT_SPLIT_REQUEST": False,
    # The document is served by api/openapi/views.py, which describes itself.
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "displayOperationId": True},
    "PREPROCESSING_HOOKS": ["api.openapi.static.only_rest"],
    # Our hook only: no enum extraction into components, which would rename them per tenant.
    "POSTPROCESSING_HOOKS": ["api.openapi.static.finish"],
    # The test suite validates the documents (tests/api/test_openapi.py).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "crm_platform.observability.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s tenant=%(tenant)s request=%(request_id)s "
            "%(name)s: %(message)s"
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
