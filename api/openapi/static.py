"""The part of the document that only the code decides: drf-spectacular over the tenant URLconf,
with the annotations of api/openapi/annotations.py, generated once per process.

`only_rest` and `finish` are drf-spectacular's hooks (SPECTACULAR_SETTINGS). `finish` adds the hand-written
components and points every problem answer at the one shared response of its status, so the
document stays small however many objects a tenant has.
"""

from copy import deepcopy
from threading import Lock

from django.utils import translation

_lock = Lock()
_generated: dict | None = None


def static_document() -> dict:
    """A copy of the generic document (records under `/api/v1/records/{object_key}`)."""
    global _generated
    with _lock:
        if _generated is None:
            _generated = _generate()
    return deepcopy(_generated)


def _generate() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    from api.openapi import annotations, approvals, webhooks  # noqa: F401 (registers the view extensions)

    # English, whatever the caller speaks: only the tenant's own labels are translated (objects.py).
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


def only_rest(endpoints):
    """drf-spectacular pre-processing hook: the REST API only (GraphQL has its own schema)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


def finish(result, generator, request, public):
    """drf-spectacular post-processing hook: shared components, problem answers by reference,
    request bodies required."""
    from api.openapi import approvals, webhooks
    from api.openapi.components import PROBLEMS, SCHEMAS, problem_responses, response_ref

    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(deepcopy(SCHEMAS))
    if any(path.startswith("/api/v1/webhooks") for path in result.get("paths", {})):
        components["schemas"].update(deepcopy(webhooks.SCHEMAS))
    if any(path.startswith("/api/v1/approvals") for path in result.get("paths", {})):
        components["schemas"].update(deepcopy(approvals.SCHEMAS))
    components["responses"] = problem_responses()
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for status in list(operation.get("responses", {})):
                if status.isdigit() and int(status) in PROBLEMS:
                    operation["responses"][status] = response_ref(PROBLEMS[int(status)][0])
            if "requestBody" in operation:
                # Given as raw schemas, which drf-spectacular cannot tell required; every body
                # here is a JSON object the operation reads.
                operation["requestBody"]["required"] = True
    return result
