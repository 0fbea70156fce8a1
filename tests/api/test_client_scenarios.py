"""Clients over real HTTP: a plain GraphQL client (and, with the OpenAPI document, a generated
REST client) complete the same scripted scenario against a live server — create an account with
custom fields, filter, refuse an update with a stale ETag, bulk upsert."""

import importlib
import json
import subprocess
import sys
import urllib.request
from urllib.error import HTTPError

from tests.conftest import host


def graphql(base: str, tenant, secret: str, query: str, variables=None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        base + "/graphql",
        data=body,
        headers={
            "Host": host(tenant.slug),
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except HTTPError as error:
        raise AssertionError(error.read().decode()) from error


def test_a_plain_graphql_client_completes_the_scenario(http_server, scenario_tenant):
    tenant, secret = scenario_tenant

    def call(query, variables=None):
        return graphql(http_server, tenant, secret, query, variables)

    created = call(
        """mutation($input: AccountInput!) {
             create_account(input: $input) {
               record { id name custom { tier erp_code } } etag errors { field }
             }
           }""",
        {"input": {"name": "杭州华辰", "custom": {"tier": "gold", "erp_code": "E-1"}}},
    )["data"]["create_account"]
    assert created["errors"] == [] and created["record"]["custom"] == {"tier": "gold", "erp_code": "E-1"}
    pk, etag = created["record"]["id"], created["etag"]

    found = call(
        '{ account_list(filter: {field: "custom.tier", op: "eq", value: "gold"}) { edges { node { id } } } }'
    )
    assert [edge["node"]["id"] for edge in found["data"]["account_list"]["edges"]] == [pk]

    update = """mutation($id: Int!, $tag: String, $name: String) {
      update_account(id: $id, input: {name: $name}, if_match: $tag) { etag errors { code } }
    }"""
    first = call(update, {"id": pk, "tag": etag, "name": "杭州华辰电器"})["data"]["update_account"]
    assert first["errors"] == []
    stale = call(update, {"id": pk, "tag": etag, "name": "Lost update"})["data"]["update_account"]
    assert stale["errors"] == [{"code": "precondition-failed"}]

    upserted = call(
        """mutation($records: GenericScalar!) {
             bulk_account(mode: "upsert", key: "custom.erp_code", records: $records) {
               results errors { field }
             }
           }""",
        {
            "records": [
                {"name": "杭州华辰电器 (ERP)", "custom": {"erp_code": "E-1"}},
                {"name": "宁波新客户", "custom": {"erp_code": "E-2", "tier": "silver"}},
            ]
        },
    )["data"]["bulk_account"]
    assert upserted["errors"] == []
    assert [(r["status"], r["id"] == pk) for r in upserted["results"]] == [(200, True), (201, False)]
    names = call(
        '{ account_list(sort: ["custom.erp_code"]) { edges { node { name custom { erp_code } } } } }'
    )
    assert [e["node"]["name"] for e in names["data"]["account_list"]["edges"]] == [
        "杭州华辰电器 (ERP)",
        "宁波新客户",
    ]


def test_a_client_generated_from_the_openapi_document_completes_the_scenario(
    http_server, scenario_tenant, tmp_path
):
    """openapi-python-client generates a package from the tenant's own document (fetched over
    HTTP with the token); the scenario then runs through that package's functions and models."""
    tenant, secret = scenario_tenant
    headers = {"Host": host(tenant.slug), "Authorization": f"Bearer {secret}"}
    request = urllib.request.Request(http_server + "/api/v1/openapi.json", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        document = tmp_path / "openapi.json"
        document.write_bytes(response.read())
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(tmp_path / "crm_client"),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # Every path and component of our document made it into the client: no warnings.
    assert "Warning" not in generated.stdout and "Unable" not in generated.stdout, generated.stdout

    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module("crm_client")
        accounts = importlib.import_module("crm_client.api.customers_account")
        models = importlib.import_module("crm_client.models")
        _scenario(client_module, accounts, models, http_server, tenant, secret)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == "crm_client" or name.startswith("crm_client.")]:
            del sys.modules[name]


def _scenario(client_module, accounts, models, base, tenant, secret):
    def call(module_name):
        return importlib.import_module(f"{accounts.__name__}.{module_name}").sync_detailed

    # The tenant is chosen by the Host header; the token is the generated client's own auth.
    client = client_module.AuthenticatedClient(
        base_url=base, token=secret, headers={"Host": host(tenant.slug)}, raise_on_unexpected_status=True
    )
    with client:
        created = call("create_customers_account")(
            client=client,
            body=models.AccountInput.from_dict(
                {"name": "杭州华辰", "custom": {"tier": "gold", "erp_code": "E-1"}}
            ),
        )
        assert created.status_code == 201, created.content
        account = created.parsed
        assert isinstance(account, models.Account)
        assert account.custom.to_dict() == {"tier": "gold", "erp_code": "E-1"}
        pk, etag = account.id, created.headers["ETag"]

        found = call("list_customers_account")(
            client=client, filter_=json.dumps({"field": "custom.tier", "op": "eq", "value": "gold"})
        )
        assert found.status_code == 200 and isinstance(found.parsed, models.AccountPage)
        assert [record.id for record in found.parsed.results] == [pk]

        read = call("get_customers_account")(client=client, id=pk)
        assert read.status_code == 200 and read.headers["ETag"] == etag

        update = call("update_customers_account")
        first = update(
            client=client, id=pk, body=models.PatchedAccountInput(name="杭州华辰电器"), if_match=etag
        )
        assert first.status_code == 200 and first.parsed.name == "杭州华辰电器"
        stale = update(
            client=client, id=pk, body=models.PatchedAccountInput(name="Lost update"), if_match=etag
        )
        assert stale.status_code == 412 and isinstance(stale.parsed, models.Problem)
        assert call("get_customers_account")(client=client, id=pk).parsed.name == "杭州华辰电器"

        upserted = call("bulk_customers_account")(
            client=client,
            body=models.AccountBulk.from_dict(
                {
                    "mode": "upsert",
                    "key": "custom.erp_code",
                    "records": [
                        {"name": "杭州华辰电器 (ERP)", "custom": {"erp_code": "E-1"}},
                        {"name": "宁波新客户", "custom": {"erp_code": "E-2", "tier": "silver"}},
                    ],
                }
            ),
        )
        assert upserted.status_code == 200, upserted.content
        results = upserted.parsed.to_dict()["results"]
        assert [(r["status"], r["id"] == pk) for r in results] == [(200, True), (201, False)]

        listed = call("list_customers_account")(
            client=client, sort=[models.ListCustomersAccountSortItem("custom.erp_code")]
        )
        assert [(r.name, r.custom.to_dict()["erp_code"]) for r in listed.parsed.results] == [
            ("杭州华辰电器 (ERP)", "E-1"),
            ("宁波新客户", "E-2"),
        ]
