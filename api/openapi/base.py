"""The base schema: the document of a freshly signed-up tenant (no custom fields or objects),
committed as api/openapi/base.json so a change to what the API says shows in review.

`python manage.py openapi_base` rewrites the file; `--check` (in `python3 dev.py lint`, so in CI)
fails with a diff when the code now describes the API differently. No database is needed: the
standard objects are code, and the metadata of a fresh tenant is empty.
"""

import difflib
import json
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.utils import translation

from api.openapi.objects import expand, object_views
from api.openapi.static import static_document
from metadata import registry

BASE_PATH = Path(__file__).resolve().parent / "base.json"


def base_document() -> dict:
    """A fresh tenant's document for a caller who may do everything, in English."""
    with translation.override("en"), _fresh_tenant_metadata():
        return expand(static_document(), object_views(None))


def render(document: dict) -> str:
    """The committed form: sorted keys, two-space indents, a final newline, so the same document
    is always the same text."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_base(path: Path = BASE_PATH) -> None:
    path.write_text(render(base_document()), encoding="utf-8")


def base_diff(path: Path = BASE_PATH) -> str:
    """A unified diff from the committed file to what the code generates now ("" when equal)."""
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    generated = render(base_document())
    if committed == generated:
        return ""
    return "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile=f"{path.name} (committed)",
            tofile=f"{path.name} (generated)",
        )
    )


@contextmanager
def _fresh_tenant_metadata():
    """Metadata lookups in this block see a tenant without any definition, and run no query: the
    registry's pin for a unit of work (registry.pinned) holds an empty snapshot."""
    with registry.pinned():
        registry._pinned.get()[connection.schema_name] = registry.Snapshot(0, {}, {}, {})
        yield
