"""What drf-spectacular cannot see in the REST views: their parameters, bodies and answers.

Kept here, beside the views rather than on them, as view extensions: each one hands the generator
an annotated subclass of the view, so api/rest/ stays plain request handling. Importing this
module registers the extensions (api/openapi/static.py does, before it generates).

Record paths are described once, generically (`/api/v1/records/{object_key}`); the per-tenant
document copies each operation per object (api/openapi/objects.py), keeping everything said here.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from api.bulk import MAX_RECORDS
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.openapi.components import IDEMPOTENCY_DESCRIPTION, PROBLEMS, ref, security_schemes_description
from api.operations import DEFAULT_LIMIT, MAX_LIMIT
from crm_platform.errors import PROBLEM_CONTENT_TYPE

JSON = "application/json"
# Every authenticated operation may answer these.
COMMON = (401, 403, 429)
# Writes: a body too large, a suspended (read-only) CRM.
WRITE = (413, 423)


def problems(*statuses: int) -> dict:
    """Problem answers, by status; the document's post-processing points them at the shared
    components/responses (api/openapi/static.py)."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(ref("Problem"), description=PROBLEMS[status][1])
        for status in sorted({*statuses, *COMMON})
    }


def header(name: str, description: str, **schema) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "string", **schema}, OpenApiParameter.HEADER, description=description
    )


def answered_header(name: str, statuses: list[int], description: str) -> OpenApiParameter:
    """A header of the answer (not of the request) for `statuses`."""
    return OpenApiParameter(
        name, {"type": "string"}, OpenApiParameter.HEADER, description=description, response=statuses
    )


IDEMPOTENCY_KEY = header(IDEMPOTENCY_HEADER, IDEMPOTENCY_DESCRIPTION, minLength=1, maxLength=255)
IF_MATCH = header(
    "If-Match",
    "The `ETag` the change is based on: if the record changed since, nothing changes and the answer "
    "is 412. Without it (or with `*`) the change is unconditional.",
)
OVERRIDE_LOCK = OpenApiParameter(
    "override_lock",
    {"type": "boolean", "default": False},
    description="Administrators: change the record even while it waits for an approval that locks "
    "it (written into the approval's history). Otherwise such a change is refused with 409 "
    "(`record-locked`).",
)
ETAG = answered_header("ETag", [200, 201], "A digest of the record as the caller reads it.")
LOCATION = answered_header("Location", [201], "The new record's path.")
REPLAYED = answered_header(
    "Idempotent-Replayed", [200, 201], "`true` when this is the replayed answer of an earlier request."
)

# The list parameters (api/rest/params.py). `fields` and `sort` are comma-separated lists; each
# object's document narrows their items to the object's own field paths.
LIST_PARAMETERS = [
    OpenApiParameter(
        "filter",
        str,
        description=(
            "A condition in the filter language, as JSON: "
            '`{"field": "custom.tier", "op": "in", "value": ["gold", "silver"]}`, or a group '
            '`{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}` (at most 8 levels, 100 conditions). '
            "Fields by path: `name`, `account.value_class`, `custom.tier`. Operators by type: eq, ne, "
            "in, not_in, is_null; text contains, icontains, starts_with; numbers and dates lt, lte, "
            "gt, gte, between; dates in_last_days, in_next_days, this_week, this_month... Variables: "
            '`{"var": "me"}`, `"my_org_unit"`, `"my_team"`, `"my_subtree"`, `"today"`, `"now"`.'
        ),
    ),
    OpenApiParameter(
        "sort",
        {"type": "array", "items": {"type": "string"}},
        style="form",
        explode=False,
        description="Field paths to sort by, `-` first for descending: `-custom.score,name`.",
    ),
    OpenApiParameter(
        "fields",
        {"type": "array", "items": {"type": "string"}},
        style="form",
        explode=False,
        description="The fields to answer with (default: every field the caller may read).",
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        description="Records per page.",
    ),
    OpenApiParameter(
        "after", str, description="The `next` of the previous page (keyset pagination: no gaps, no repeats)."
    ),
]

RECORD_TAG = ["records"]
DESCRIBED = "Standard fields at the top (relations as ids), custom fields under `custom`."


class RecordsViewSchema(OpenApiViewExtension):
    target_class = "api.rest.records.RecordsView"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                operation_id="listRecords",
                summary="List records",
                description="A page of the records the caller may see, filtered and sorted. " + DESCRIBED,
                tags=RECORD_TAG,
                parameters=LIST_PARAMETERS,
                responses={
                    200: OpenApiResponse(ref("RecordPage"), description="A page of records."),
                    **problems(400, 404),
                },
            ),
            post=extend_schema(
                operation_id="createRecord",
                summary="Create a record",
                description="Created through the object's own services (validation, scope, audit). "
                + DESCRIBED,
                tags=RECORD_TAG,
                parameters=[IDEMPOTENCY_KEY, ETAG, LOCATION, REPLAYED],
                request={JSON: ref("RecordInput")},
                responses={
                    201: OpenApiResponse(ref("Record"), description="Created."),
                    **problems(400, 404, 409, 422, *WRITE),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class RecordViewSchema(OpenApiViewExtension):
    target_class = "api.rest.records.RecordView"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                operation_id="getRecord",
                summary="Read a record",
                tags=RECORD_TAG,
                parameters=[ETAG],
                responses={200: OpenApiResponse(ref("Record"), description="The record."), **problems(404)},
            ),
            patch=extend_schema(
                operation_id="updateRecord",
                summary="Change a record",
                description="Only the fields sent change; custom values merge, and null clears one.",
                tags=RECORD_TAG,
                parameters=[IF_MATCH, OVERRIDE_LOCK, ETAG],
                request={JSON: ref("PatchedRecordInput")},
                responses={
                    200: OpenApiResponse(ref("Record"), description="The record as changed."),
                    **problems(400, 404, 409, 412, *WRITE),
                },
            ),
            delete=extend_schema(
                operation_id="deleteRecord",
                summary="Delete a record",
                tags=RECORD_TAG,
                parameters=[IF_MATCH, OVERRIDE_LOCK],
                responses={
                    204: OpenApiResponse(description="Deleted."),
                    **problems(400, 404, 409, 412, 423),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class BulkViewSchema(OpenApiViewExtension):
    target_class = "api.rest.bulk.BulkView"

    def view_replacement(self):
        @extend_schema_view(
            post=extend_schema(
                operation_id="bulkRecords",
                summary="Write records in bulk",
                description=(
                    f"Up to {MAX_RECORDS} records: `mode` create, update or upsert (matched on `key`: "
                    "`id` or a unique custom field). With `atomic` (the default) one failure rolls "
                    "everything back and the answer is a 400 locating each error "
                    "(`records[3].custom.tier`); without it each record stands alone and the answer "
                    "lists every outcome."
                ),
                tags=RECORD_TAG,
                parameters=[IDEMPOTENCY_KEY, REPLAYED],
                request={JSON: ref("RecordBulk")},
                responses={
                    200: OpenApiResponse(ref("BulkResult"), description="Every outcome."),
                    **problems(400, 404, 405, 409, 422, *WRITE),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class RecordActionViewSchema(OpenApiViewExtension):
    target_class = "api.rest.records.RecordActionView"
    optional = True  # named operations are newer than the rest: absent, nothing to describe

    def view_replacement(self):
        @extend_schema_view(
            post=extend_schema(
                operation_id="runRecordAction",
                summary="Run a named operation on a record",
                tags=RECORD_TAG,
                parameters=[IDEMPOTENCY_KEY, REPLAYED],
                request={JSON: {"type": "object", "additionalProperties": True}},
                responses={
                    200: OpenApiResponse(ref("ActionResult"), description="Done."),
                    **problems(400, 404, 409, 422, *WRITE),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


TOKEN_TAG = ["tokens"]
ADMIN_SCOPE = ' A bearer token needs the "admin" scope here.'


class TokenListViewSchema(OpenApiViewExtension):
    target_class = "api.rest.tokens.TokenListView"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                operation_id="listApiTokens",
                summary="List API tokens",
                description="The caller's tokens, or every token for an administrator; newest first."
                + ADMIN_SCOPE,
                tags=TOKEN_TAG,
                responses={
                    200: OpenApiResponse({"type": "array", "items": ref("ApiToken")}, description="Tokens."),
                    **problems(),
                },
            ),
            post=extend_schema(
                operation_id="issueApiToken",
                summary="Issue an API token",
                description="The secret is in this answer only (`Cache-Control: no-store`); only a "
                "digest is kept. Tokens always expire." + ADMIN_SCOPE,
                tags=TOKEN_TAG,
                request={JSON: ref("ApiTokenRequest")},
                responses={
                    201: OpenApiResponse(ref("IssuedApiToken"), description="Issued."),
                    **problems(400, *WRITE),
                },
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class TokenDetailViewSchema(OpenApiViewExtension):
    target_class = "api.rest.tokens.TokenDetailView"

    def view_replacement(self):
        @extend_schema_view(
            delete=extend_schema(
                operation_id="revokeApiToken",
                summary="Revoke an API token",
                description="Its own user or an administrator may revoke it; revoking twice changes "
                "nothing." + ADMIN_SCOPE,
                tags=TOKEN_TAG,
                parameters=[OpenApiParameter("token_id", int, OpenApiParameter.PATH)],
                responses={204: OpenApiResponse(description="Revoked."), **problems(404, 423)},
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class MeViewSchema(OpenApiViewExtension):
    target_class = "api.rest.me.MeView"

    def view_replacement(self):
        @extend_schema_view(
            get=extend_schema(
                operation_id="getMe",
                summary="The caller",
                description="The user a session or token acts as, and the token's scopes.",
                tags=["me"],
                responses={200: OpenApiResponse(ref("Me"), description="The caller."), **problems()},
            ),
        )
        class Annotated(self.target_class):
            pass

        return Annotated


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": security_schemes_description()["bearerAuth"],
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "sessionAuth"
    priority = 1  # over drf-spectacular's own "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": security_schemes_description()["sessionAuth"],
        }
