import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_platform.settings")
application = get_wsgi_application()

# Load both URLconfs (and with them every view module) now, then take everything loaded so far out
# of the garbage collector's sight: otherwise each full collection in a busy worker rescans these
# long-lived objects and stalls all its threads (pauses of 250-380 ms seen by benchmarks/api.py).
for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
    get_resolver(urlconf).url_patterns  # noqa: B018 (loaded for its side effect)
gc.freeze()
