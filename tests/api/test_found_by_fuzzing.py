"""Regression tests for what Schemathesis (tests/api/test_schemathesis.py) and the generated
OpenAPI client (tests/api/test_client_scenarios.py) found, each as a plain test of its case."""

import json

from django_tenants.utils import tenant_context

from api import tokens
from api.openapi.base import base_document
from tests.conftest import admin_of, signed_in, tenant_client

DOCUMENT = "/api/v1/openapi.json"


def test_a_list_asked_for_with_first_null_gets_the_default_page(alpha):
    """`account_list(first: null)` crashed its resolver (None compared with 1) into an error
    without a status; null now means the default page size, as the cost limit counts it."""
    with tenant_context(alpha):
        _token, secret = tokens.issue_token(admin_of(alpha), name="fuzz", scopes=["read"])
    response = tenant_client(alpha).post(
        "/graphql",
        data=json.dumps({"query": "{ account_list(first: null) { edges { cursor } } }"}),
        content_type="application/json",
        headers={"authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"account_list": {"edges": []}}}


def test_no_component_is_titled_so_generated_class_names_do_not_follow_the_language(alpha):
    """openapi-python-client names a model by its schema's title: the localized labels titling
    Account, AccountInput and PatchedAccountInput alike gave duplicate models (the create and
    update endpoints were dropped) and, in a Chinese document, class names such as `客户Input`.
    Components are named by their keys only; the label is their description."""
    for language in ("zh-hans", "en"):
        document = signed_in(alpha).get(DOCUMENT, headers={"accept-language": language}).json()
        titled = [name for name, schema in document["components"]["schemas"].items() if "title" in schema]
        assert titled == [], (language, titled)
    schemas = base_document()["components"]["schemas"]
    assert schemas["Account"]["description"] == "Account"
    assert schemas["AccountInput"]["description"] == "Account: a new record."
