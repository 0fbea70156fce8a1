"""Active sharing rules, keyed "<object>:<name>", created through access.sharing.

Grantees travel by natural key: a role by code, an org unit by its path of names ("Sales/East"),
a channel node by code, a user by e-mail. The criteria travel as written: a criterion that names
a record id (an owner, a lookup) means another record in another CRM, so review such rules.
A changed rule is deactivated and created anew (sharing rules are not edited in place).
"""

from access import sharing
from access.models import Access, SharingRule
from accounts.models import User
from channels.models import ChannelNode
from metadata.packages.sections import Section, refs

GRANTEE_SCHEMA = {
    "type": "object",
    "properties": {
        "role": {"type": "string", "maxLength": 50},
        "org_unit": {"type": "string", "maxLength": 2000},
        "channel_node": {"type": "string", "maxLength": 50},
        "user": {"type": "string", "maxLength": 254},
    },
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "object": {"type": "string", "maxLength": 100},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "criteria": {"type": "object"},
        "access": {"enum": Access.values},
        "grantee": GRANTEE_SCHEMA,
        "include_below": {"type": "boolean"},
    },
    "required": ["object", "name", "criteria", "grantee"],
    "additionalProperties": False,
}


def export() -> list[dict]:
    rules = SharingRule.objects.filter(is_active=True).select_related(
        "role", "org_unit", "channel_node", "user"
    )
    units = refs.unit_paths()
    return [
        {
            "object": rule.object,
            "name": rule.name,
            "criteria": rule.criteria,
            "access": rule.access,
            "grantee": _grantee(rule, units),
            "include_below": rule.include_below,
        }
        for rule in rules.order_by("object", "name", "id")
    ]


def key(item: dict) -> str:
    return f"{item['object']}:{item['name']}"


def apply(actor, item: dict, changes: dict | None) -> None:
    grantee = _resolve(item["grantee"])
    if changes is not None:
        prune(actor, item)
    sharing.create_sharing_rule(
        actor=actor,
        object=item["object"],
        name=item["name"],
        criteria=item["criteria"],
        access=item["access"],
        include_below=item["include_below"],
        **grantee,
    )


def prune(actor, item: dict) -> None:
    for rule in SharingRule.objects.filter(object=item["object"], name=item["name"], is_active=True):
        sharing.deactivate_sharing_rule(actor=actor, rule=rule)


def _grantee(rule: SharingRule, units: dict[int, str]) -> dict:
    if rule.role_id:
        return {"role": rule.role.code}
    if rule.org_unit_id:
        return {"org_unit": units[rule.org_unit_id]}
    if rule.channel_node_id:
        return {"channel_node": rule.channel_node.code}
    return {"user": rule.user.email}


def _resolve(grantee: dict) -> dict:
    """The grantee in this CRM, or a field error naming what is missing."""
    ((kind, natural_key),) = grantee.items()
    attribute = f"grantee.{kind}"
    if kind == "role":
        return {kind: refs.role_named(attribute, natural_key)}
    if kind == "org_unit":
        return {kind: refs.unit_at(attribute, natural_key)}
    if kind == "channel_node":
        found = ChannelNode.objects.filter(code=natural_key).first()
    else:
        found = User.objects.filter(email=natural_key.lower()).first()
    return {kind: refs.present(attribute, natural_key, found)}


SECTION = Section(
    "sharing_rules",
    ITEM_SCHEMA,
    export,
    key,
    apply,
    prune,
    defaults={"access": Access.READ, "include_below": False},
)
