"""Schemathesis (property-based API testing) against a live server: the per-tenant OpenAPI
document of a tenant with custom fields of several types and a custom object, every operation in
it, and the tenant's /graphql. No answer may be a 5xx, and every answer must match what the
document says of it (status code, schema).

Bounded so the file runs in a few minutes: a few examples per operation, derandomized so a run
is reproducible (a failure shows the case to replay), no per-example deadline (a shared CI box
is slow at times). Findings that needed a fix have plain regression tests in
tests/api/test_found_by_fuzzing.py."""

import json
import urllib.request
from collections import Counter

import pytest
import schemathesis
from graphql import NameNode, ObjectFieldNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.graphql import nodes
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

import api.limits
from billing.plans import PLANS
from tests.api.conftest import committed_tenant, serving
from tests.conftest import host


def _json_values() -> st.SearchStrategy:
    """GraphQL literals of any JSON value, for graphene's GenericScalar (filters, bulk records),
    which Schemathesis cannot generate by itself; keys lean towards the filter language's."""
    names = st.sampled_from(["field", "op", "value", "name", "custom", "and", "or", "id"]) | st.from_regex(
        r"\A[_a-z][_a-z0-9]{0,8}\Z"
    )
    leaves = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers(-(10**6), 10**6).map(nodes.Int),
        st.text(max_size=20).map(nodes.String),
    )

    def containers(children):
        pairs = st.lists(st.tuples(names, children), max_size=4, unique_by=lambda pair: pair[0])
        return st.lists(children, max_size=4).map(nodes.List) | pairs.map(
            lambda items: nodes.Object(
                [ObjectFieldNode(name=NameNode(value=key), value=value) for key, value in items]
            )
        )

    return st.recursive(leaves, containers, max_leaves=10)


schemathesis.graphql.scalar("GenericScalar", _json_values())

FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def target(two_tenants, django_db_blocker):
    """(base URL, headers) of a live server and a committed tenant with custom fields, a custom
    object and a read+write token, for the whole module; the tenant is dropped afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        # One tenant's budget per minute would turn most of the run into 429s.
        unlimited = PLANS["enterprise"].__class__(
            **{**PLANS["enterprise"].__dict__, "api_requests_per_minute": 10**9}
        )
        patch.setattr(api.limits, "plan_of", lambda tenant: unlimited)
        with (
            django_db_blocker.unblock(),
            committed_tenant("fuzz", "Fuzz 模糊", rich=True) as (tenant, secret),
            serving() as url,
        ):
            yield url, {"Host": host(tenant.slug), "Authorization": f"Bearer {secret}"}


def _document(base: str, headers: dict) -> dict:
    request = urllib.request.Request(base + "/api/v1/openapi.json", headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def openapi(target):
    base, headers = target
    document = _document(base, headers)
    paths = document["paths"]
    assert "/api/v1/records/custom.project" in paths  # the custom object is in it
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=base, headers=headers)
    # Revoking tokens could revoke the one this run authenticates with.
    return schema.exclude(method="DELETE", path_regex=r"^/api/v1/tokens/")


@pytest.fixture(scope="module")
def graphql(target):
    base, headers = target
    schema = schemathesis.graphql.from_url(base + "/graphql", headers=headers, timeout=60)
    schema.config.update(base_url=base + "/graphql", headers=headers)
    return schema


def fuzz(schema, check) -> None:
    """Run `check` on generated cases of every operation of `schema`, valid and invalid ones;
    fail with every failing operation and its (shrunk) case at once.

    Schemathesis's own pytest integration (`schemathesis.pytest.from_fixture`, needed for a
    schema only a fixture can load) does not run under pytest 9.2 (it sets `Node._nodeid`, gone
    there), so the operations are driven with Hypothesis directly, through the public
    `APIOperation.as_strategy`."""
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @FUZZ
        @given(case=strategy)
        def run(case):
            check(case)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.label}: {error}")
    assert operations > 0
    assert not failures, f"{len(failures)} of {operations} operations failed:\n\n" + "\n\n".join(failures)


def test_every_rest_operation_answers_as_documented(openapi, target):
    _base, headers = target

    def check(case):
        response = case.call_and_validate(
            headers=headers,
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
            timeout=60,
        )
        calls.append(response.status_code)

    calls = []

    fuzz(openapi, check)
    # The run reached the operations, not only the authentication in front of them.
    assert len(calls) > 500 and sum(200 <= status < 300 for status in calls) > 100, Counter(calls)


def test_graphql_answers_without_server_errors(graphql, target):
    _base, headers = target

    def check(case):
        response = case.call(headers=headers, timeout=60)
        calls.append(response.status_code)
        assert response.status_code < 500, response.text
        body = response.json()
        assert isinstance(body, dict) and ("data" in body or "errors" in body), body
        for error in body.get("errors", []):
            assert isinstance(error.get("message"), str), body
            if response.status_code == 200:
                # Executed: every error is one the caller caused, with its status and field
                # errors (api/graphql/schema.py); an unexpected exception has no status.
                status = (error.get("extensions") or {}).get("status")
                assert isinstance(status, int) and 400 <= status < 500, body

    calls = []

    fuzz(graphql, check)
    assert len(calls) > 200 and calls.count(200) > 100, Counter(calls)
