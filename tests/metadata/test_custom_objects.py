"""Custom objects behave like standard ones: records through the services with audit and events,
per-object permissions, data levels and the dealer subtree, sharing, a second tenant, lookups
checked against the actor's scope, related records, and filters on custom fields."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from access import services as access_services
from access.principal import forget
from access.sharing import create_sharing_rule, share_record
from accounts.models import Role, User
from accounts.services import add_org_unit
from channels.models import ChannelMember
from channels.services import add_channel_node
from crm.customers.services import create_account
from crm.records import audit, events
from crm_platform.errors import NotFound, PermissionDenied
from metadata import records, services
from metadata.filters import compile_filter
from metadata.models import CustomRecord
from metadata.resolver import resolver_for
from tests.conftest import admin_of

PROJECT, PARTNER = "custom.project", "custom.partner"
STAGES = {"choices": [{"value": "open"}, {"value": "won"}, {"value": "lost"}]}
_serial = iter(range(1, 10_000))


def define(admin):
    """Two objects: "partner" (a region), and "project" with text, select, currency and two lookups."""
    services.create_object(actor=admin, name="partner", label_en="Partner", label_zh="合作伙伴")
    services.add_field(actor=admin, object_key=PARTNER, name="region", type="text", label_en="Region")
    services.create_object(actor=admin, name="project", label_en="Project", label_zh="项目")
    for name, type, options in (
        ("code", "text", {"max_length": 20}),
        ("stage", "select", STAGES),
        ("budget", "currency", {"currency": "CNY"}),
        ("customer", "lookup", {"target": "customers.account"}),
        ("partner", "lookup", {"target": PARTNER}),
    ):
        services.add_field(
            actor=admin, object_key=PROJECT, name=name, type=type, label_en=name.title(), options=options
        )


@pytest.fixture
def admin(alpha):
    user = admin_of(alpha)
    with tenant_context(alpha):
        define(user)
        yield user


def person(role: str, *, unit=None, node=None) -> User:
    user = User.objects.create(
        email=f"{role}.{next(_serial)}@objects.example",
        full_name=role,
        role=Role.objects.get(code=role),
        org_unit=unit,
    )
    if node is not None:
        ChannelMember.objects.create(user=user, node=node)
    return user


def seen(user, object_key=PROJECT) -> set[str]:
    forget(user)  # a new request: rights read afresh
    return set(records.records_of(user, object_key).values_list("name", flat=True))


def project(actor, name, **custom):
    return records.create_record(actor, PROJECT, name, custom=custom)


def refused(call) -> dict:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


@pytest.fixture
def published():
    names = []
    events.subscribe(names.append)
    yield names
    events._subscribers.remove(names.append)


def test_records_are_created_changed_and_deleted_through_the_services(
    admin, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = _create_change_and_delete(admin)
    assert [e.name for e in published if e.model == "metadata.customrecord"] == [
        "custom.partner.created",
        "custom.project.created",
        "custom.project.updated",
        "custom.project.deleted",
    ]
    assert published[-1].pk == made.pk and published[-1].data == {"object": PROJECT}


def _create_change_and_delete(admin):
    customer = create_account(actor=admin, name="华辰").account
    partner = records.create_record(admin, PARTNER, "渠道伙伴", custom={"region": "华东"})
    made = project(admin, "ERP 上线", code="P-1", stage="open", budget=1999.99,
                   customer=customer.pk, partner=partner.pk)  # fmt: skip
    assert made.custom == {"code": "P-1", "stage": "open", "budget": 1999.99,
                           "customer": customer.pk, "partner": partner.pk}  # fmt: skip
    assert made.owner == admin
    # `custom` merges: what is not sent stays, null clears.
    records.update_record(admin, made, name="ERP 二期", custom={"stage": "won", "partner": None})
    stored = records.get_record(admin, PROJECT, made.pk)
    assert stored.name == "ERP 二期"
    assert stored.custom == {"code": "P-1", "stage": "won", "budget": 1999.99, "customer": customer.pk}
    trail = audit.history(stored)
    assert [change.action for change in trail] == ["created", "updated"]
    assert trail[1].user_id == admin.pk and trail[1].changes["name"] == ["ERP 上线", "ERP 二期"]
    records.delete_record(admin, stored)
    assert audit.history(stored)[-1].action == "deleted"
    with pytest.raises(NotFound):
        records.get_record(admin, PROJECT, made.pk)
    with pytest.raises(ValidationError):
        records.update_record(admin, made, owner=admin)  # only name and custom change here
    return made


def test_values_are_checked_field_by_field_all_at_once(admin):
    errors = refused(lambda: project(admin, "", stage="maybe", budget="12", code="x" * 21))
    assert set(errors) == {"name", "custom.stage", "custom.budget", "custom.code"}
    assert not CustomRecord.objects.exists()


def test_an_inactive_object_has_no_records_to_anyone(admin):
    rep = person("sales_rep")
    project(rep, "mine")
    services.update_object(actor=admin, object_key=PROJECT, is_active=False)
    with pytest.raises(ValidationError):
        records.records_of(rep, PROJECT)
    with pytest.raises(ValidationError):
        project(rep, "another")
    forget(rep)
    assert not CustomRecord.objects.visible_to(rep).exists()


def test_each_custom_object_has_its_own_permissions(admin):
    auditor = Role.objects.create(code="auditor", labels={"en": "Auditor"}, data_level="all")
    watcher = User.objects.create(email="watch@objects.example", full_name="watch", role=auditor)
    kept = project(admin, "机密项目")
    records.create_record(admin, PARTNER, "公开伙伴")
    assert seen(watcher) == set() and seen(watcher, PARTNER) == set()  # a new role starts with nothing
    access_services.set_object_permission(actor=admin, role=auditor, object=PARTNER, actions=["read"])
    assert seen(watcher, PARTNER) == {"公开伙伴"}
    assert seen(watcher) == set()  # reading partners opens no projects
    with pytest.raises(NotFound):
        records.get_record(watcher, PROJECT, kept.pk)
    with pytest.raises(PermissionDenied):
        project(watcher, "x")
    # Shipped roles: a rep creates, reads and changes their own records, but deletes nothing.
    rep = person("sales_rep")
    mine = project(rep, "我的项目")
    records.update_record(rep, mine, custom={"stage": "won"})
    with pytest.raises(PermissionDenied):
        records.delete_record(rep, mine)
    with pytest.raises(NotFound):  # someone else's: as if it did not exist
        records.update_record(rep, kept, name="改")
    assert records.get_record(admin, PROJECT, kept.pk).name == "机密项目"


def test_data_levels_follow_the_org_tree_as_for_accounts(admin):
    sales = add_org_unit(name="销售中心")
    east, south = add_org_unit(name="华东组", parent=sales), add_org_unit(name="华南组", parent=sales)
    boss, lead = person("sales_manager", unit=sales), person("sales_manager", unit=east)
    zhang, chen = person("sales_rep", unit=east), person("sales_rep", unit=south)
    desk = person("service", unit=east)
    project(zhang, "张的项目")
    project(chen, "陈的项目")
    assert seen(boss) == {"张的项目", "陈的项目"}  # subtree
    assert seen(lead) == {"张的项目"}
    assert seen(zhang) == {"张的项目"}  # own
    assert seen(desk) == {"张的项目"}  # unit, read only
    with pytest.raises(PermissionDenied):
        project(desk, "客服项目")


def test_dealers_see_their_subtree_and_never_a_siblings(admin):
    brand = add_channel_node(name="华辰", code="brand", level="brand")
    east = add_channel_node(name="华东代理", code="east", level="agent", parent=brand)
    west = add_channel_node(name="华西代理", code="west", level="agent", parent=brand)
    shop = add_channel_node(name="杭州门店", code="east-shop", level="retailer", parent=east)
    east_admin, west_admin = person("dealer_admin", node=east), person("dealer_admin", node=west)
    for node in (brand, east, west, shop):
        records.create_record(admin, PROJECT, f"{node.code} project", channel_node=node)
    assert seen(east_admin) == set()  # dealers get custom objects only when granted
    access_services.set_object_permission(
        actor=admin, role=Role.objects.get(code="dealer_admin"), object=PROJECT, actions=["create", "read"]
    )
    assert seen(east_admin) == {"east project", "east-shop project"}
    assert seen(west_admin) == {"west project"}
    made = project(east_admin, "门店活动")
    assert made.channel_node == east
    with pytest.raises(PermissionDenied):
        records.create_record(east_admin, PROJECT, "越界", channel_node=west)
    assert not CustomRecord.objects.filter(name="越界").exists()


def test_sharing_opens_one_objects_records_only(admin):
    zhang, chen = person("sales_rep"), person("sales_rep")
    won = project(zhang, "A 赢单", stage="won")
    project(zhang, "A 跟进", stage="open")
    records.create_record(zhang, PARTNER, "A 伙伴")
    rule = create_sharing_rule(
        actor=admin, object=PROJECT, name="赢单共享", user=chen,
        criteria={"field": "custom.stage", "op": "eq", "value": "won"},
    )  # fmt: skip
    assert rule.object == PROJECT
    assert seen(chen) == {"A 赢单"}
    create_sharing_rule(actor=admin, object=PROJECT, name="A 开头", user=chen,
                        criteria={"field": "name", "op": "starts_with", "value": "A"})  # fmt: skip
    assert seen(chen) == {"A 赢单", "A 跟进"}
    assert seen(chen, PARTNER) == set()  # the rule names projects: partners matching it stay closed
    with pytest.raises(PermissionDenied):  # shared to read, not to change
        records.update_record(chen, won, name="x")
    partners_field = {"field": "custom.region", "op": "is_null", "value": True}
    bad = refused(
        lambda: create_sharing_rule(actor=admin, object=PROJECT, name="x", user=chen, criteria=partners_field)
    )
    assert set(bad) == {"criteria"}
    partner = CustomRecord.objects.get(name="A 伙伴")
    share_record(actor=zhang, record=partner, user=chen, access="edit")
    assert seen(chen, PARTNER) == {"A 伙伴"}
    records.update_record(chen, partner, custom={"region": "华南"})


def test_a_second_tenant_sees_nothing(admin, beta):
    mine = project(admin, "alpha 项目")
    beta_admin = admin_of(beta)
    with tenant_context(beta):
        define(beta_admin)
        theirs = project(beta_admin, "beta 项目")
        assert seen(beta_admin) == {"beta 项目"}
        # Ids are per schema: alpha's id reaches nothing in beta, or beta's own record of that id.
        if theirs.pk == mine.pk:
            assert records.get_record(beta_admin, PROJECT, mine.pk).name == "beta 项目"
        else:
            with pytest.raises(NotFound):
                records.get_record(beta_admin, PROJECT, mine.pk)


def test_a_lookup_to_a_record_out_of_reach_is_refused_like_a_missing_one(admin):
    zhang, chen = person("sales_rep"), person("sales_rep")
    theirs = create_account(actor=chen, name="陈的客户").account
    ours = create_account(actor=zhang, name="张的客户").account
    their_partner = records.create_record(chen, PARTNER, "陈的伙伴")
    other_object = project(zhang, "不是伙伴")
    hidden = refused(lambda: project(zhang, "p", customer=theirs.pk, partner=their_partner.pk))
    missing = refused(lambda: project(zhang, "p", customer=10**9, partner=10**9))
    assert (
        hidden
        == missing
        == {"custom.customer": ["Account not found."], "custom.partner": ["Partner not found."]}
    )
    with translation.override("en"):
        assert refused(lambda: project(zhang, "p", partner=their_partner.pk)) == {
            "custom.partner": ["Partner not found."]
        }
    assert refused(lambda: project(zhang, "p", partner=other_object.pk)) == {
        "custom.partner": ["Partner not found."]
    }
    made = project(admin, "经理设的", customer=theirs.pk)  # the admin sees it: accepted
    made.owner = zhang
    made.save(update_fields=["owner"])
    # Zhang may change the record without touching a lookup set by someone who could see its target.
    records.update_record(zhang, made, custom={"stage": "open"})
    assert project(zhang, "ok", customer=ours.pk).custom["customer"] == ours.pk


def test_related_records_follow_lookups_back_within_scope(admin):
    zhang, chen = person("sales_rep"), person("sales_rep")
    partner = records.create_record(zhang, PARTNER, "共享伙伴")
    customer = create_account(actor=zhang, name="大客户").account
    records.create_record(zhang, PROJECT, "张的", custom={"partner": partner.pk, "customer": customer.pk})
    records.create_record(admin, PROJECT, "经理的", custom={"partner": partner.pk})
    records.create_record(admin, PROJECT, "无关")

    def related(actor, record, field):
        return set(records.related_records(actor, record, field).values_list("name", flat=True))

    assert related(admin, partner, "partner") == {"张的", "经理的"}
    assert related(zhang, partner, "custom.project.partner") == {"张的"}
    assert related(admin, customer, "customer") == {"张的"}  # from a standard record too
    with pytest.raises(NotFound):  # a record you cannot see has no related records for you
        records.related_records(chen, partner, "partner")
    with pytest.raises(ValidationError):
        records.related_records(admin, partner, "region")


def test_filters_compile_over_custom_object_fields(admin):
    project(admin, "大单", stage="won", budget=50000)
    project(admin, "小单", stage="won", budget=500)
    project(admin, "跟进", stage="open", budget=90000)
    spec = {"and": [{"field": "custom.stage", "op": "eq", "value": "won"},
                    {"field": "custom.budget", "op": "gte", "value": 1000}]}  # fmt: skip
    condition = compile_filter(spec, CustomRecord, resolver=resolver_for(PROJECT))
    matched = records.records_of(admin, PROJECT).filter(condition)
    assert set(matched.values_list("name", flat=True)) == {"大单"}
    with pytest.raises(ValidationError):  # a partner's field is not a project's
        compile_filter({"field": "custom.region", "op": "eq", "value": "x"}, CustomRecord,
                       resolver=resolver_for(PROJECT))  # fmt: skip
