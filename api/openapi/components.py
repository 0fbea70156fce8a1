"""The parts of the document that are the same for every tenant: the problem document and its
responses, tokens, the caller, bulk outcomes, and the generic record shapes that the per-tenant
part (api/openapi/objects.py) replaces with each object's own.

Written as OpenAPI 3.0.3 schema objects by hand rather than inferred from serializers: the REST
views have none (they answer what metadata/query.py and the services give), and a hand-written
schema says exactly what the code answers, nullability included.
"""

from api.bulk import MAX_RECORDS, MODES
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.tokens import MAX_DAYS, SCOPES
from crm_platform.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def response_ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {**_DATE_TIME, "nullable": True}
_TOKEN_PROPERTIES = {
    "id": {"type": "integer", "readOnly": True},
    "name": {"type": "string", "maxLength": 100},
    "kind": {"type": "string", "enum": ["personal", "integration"]},
    "prefix": {"type": "string", "description": "The visible start of the token, to tell tokens apart."},
    "scopes": {"type": "array", "items": {"type": "string", "enum": list(SCOPES)}},
    "user": {"type": "integer", "description": "The user the token acts as."},
    "created_at": _DATE_TIME,
    "expires_at": _DATE_TIME,
    "revoked_at": _NULLABLE_DATE_TIME,
    "last_used_at": _NULLABLE_DATE_TIME,
}

SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "description": (
            "RFC 9457 problem details, the body of every error (`application/problem+json`). "
            "`errors` lists field-level problems: `field` is a path such as `custom.tier` or "
            "`records[3].name` (null for the request as a whole)."
        ),
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "example": PROBLEM_BASE + "validation"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": ref("FieldError")},
        },
    },
    "FieldError": {
        "type": "object",
        "required": ["field", "code", "message"],
        "properties": {
            "field": {"type": "string", "nullable": True},
            "code": {"type": "string", "example": "required"},
            "message": {"type": "string", "description": "In the caller's language."},
        },
    },
    "ApiToken": {
        "type": "object",
        "required": list(_TOKEN_PROPERTIES),
        "properties": _TOKEN_PROPERTIES,
    },
    "IssuedApiToken": {
        "type": "object",
        "description": "A new token: `token` is its secret, shown in this answer only.",
        "required": [*_TOKEN_PROPERTIES, "token"],
        "properties": {**_TOKEN_PROPERTIES, "token": {"type": "string"}},
    },
    "ApiTokenRequest": {
        "type": "object",
        "required": ["name", "scopes"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "scopes": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "enum": list(SCOPES)},
                "description": "A token made with a token gets no scope that token lacks.",
            },
            "kind": {"type": "string", "enum": ["personal", "integration"], "default": "personal"},
            "user": {
                "type": "integer",
                "nullable": True,
                "description": "The user an integration token acts as (administrators only); "
                "a personal token always acts as its maker.",
            },
            "expires_in_days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 90},
        },
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "name", "language", "token"],
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "language": {"type": "string"},
            "token": {
                "type": "object",
                "nullable": True,
                "description": "The token the request was made with (null for a session).",
                "required": ["name", "scopes"],
                "properties": {
                    "name": {"type": "string"},
                    "scopes": {"type": "array", "items": {"type": "string", "enum": list(SCOPES)}},
                },
            },
        },
    },
    "BulkResult": {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "One outcome per record sent, in order: the id written, or the errors.",
                    "required": ["index", "status"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "status": {"type": "integer", "example": 201},
                        "id": {"type": "integer"},
                        "errors": {"type": "array", "items": ref("FieldError")},
                    },
                },
            }
        },
    },
    "ActionResult": {
        "type": "object",
        "required": ["object", "record"],
        "properties": {
            "object": {"type": "string", "description": "The object key of the record answered with."},
            "record": {
                "type": "object",
                "description": "That record as the caller may read it (only its id once they no longer may).",
                "required": ["id"],
                "properties": {"id": {"type": "integer"}},
                "additionalProperties": True,
            },
        },
    },
    # Generic record shapes: the paths under /api/v1/records/{object_key} use these, and the
    # per-tenant document swaps them for each object's own (Account, AccountInput...).
    "Record": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "custom": {"type": "object", "additionalProperties": True},
        },
        "additionalProperties": True,
    },
    "RecordInput": {"type": "object", "additionalProperties": True},
    "PatchedRecordInput": {"type": "object", "additionalProperties": True},
    "RecordPage": {
        "type": "object",
        "required": ["results", "next"],
        "properties": {
            "results": {"type": "array", "items": ref("Record")},
            "next": {"type": "string", "nullable": True, "description": "The `after` of the next page."},
        },
    },
    "RecordBulk": {
        "type": "object",
        "required": ["records"],
        "properties": {
            "mode": {"type": "string", "enum": list(MODES), "default": "create"},
            "key": {"type": "string", "default": "id"},
            "atomic": {"type": "boolean", "default": True},
            "records": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_RECORDS,
                "items": {"type": "object", "additionalProperties": True},
            },
        },
    },
}

# The generic shapes, and the name each object's own takes ("Account", "AccountInput"...).
GENERIC = {
    "Record": "{}",
    "RecordInput": "{}Input",
    "PatchedRecordInput": "Patched{}Input",
    "RecordPage": "{}Page",
    "RecordBulk": "{}Bulk",
}

_RATE_HEADERS = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the window resets."},
}
# status -> (component name, description, response headers)
PROBLEMS: dict[int, tuple[str, str, dict]] = {
    400: ("BadRequest", "Invalid input: `errors` names each field.", {}),
    401: (
        "Unauthorized",
        "No valid session or bearer token.",
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    403: ("Forbidden", "Not allowed: the role, a field permission or the token's scope refuses.", {}),
    404: ("NotFound", "Missing, or not visible to the caller (the same answer either way).", {}),
    405: ("MethodNotAllowed", "Not possible on this object.", {"Allow": {"schema": {"type": "string"}}}),
    409: ("Conflict", "Not possible in the record's state, or a limit is reached.", {}),
    412: ("PreconditionFailed", "The `If-Match` ETag is stale: nothing was changed.", {}),
    413: ("ContentTooLarge", "The request body is too large.", {}),
    422: ("UnprocessableContent", "This `Idempotency-Key` was used for a different request.", {}),
    423: ("Locked", "The CRM is suspended and read-only.", {}),
    429: ("TooManyRequests", "Over the plan's API requests a minute.", _RATE_HEADERS),
}


def problem_responses() -> dict:
    """components/responses: one problem response per status."""
    responses = {}
    for name, description, headers in PROBLEMS.values():
        responses[name] = {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": ref("Problem")}},
        }
        if headers:
            responses[name]["headers"] = headers
    return responses


def security_schemes_description() -> dict:
    return {
        "bearerAuth": (
            "`Authorization: Bearer <token>`: a personal or integration token (POST /api/v1/tokens), "
            'scoped "read" (safe methods), "write" (the others) or "admin" (the token endpoints).'
        ),
        "sessionAuth": (
            "The web app's session cookie. Unsafe methods also need the `X-CSRFToken` header "
            "(the interactive docs send it)."
        ),
    }


IDEMPOTENCY_DESCRIPTION = (
    f"Send the same `{IDEMPOTENCY_HEADER}` again and the first answer is replayed "
    "(`Idempotent-Replayed: true`) without writing twice; kept for a day. "
    "The same key with another request is refused with 422."
)
