"""The sections of a package, in the order they are applied, as one registry.

A section is (name, item schema, export, key, apply, prune). Export, diff, the JSON Schema and
import all loop over `SECTIONS`, so adding what a package carries is one entry here and one module:

- approval definitions (workflows/, not built yet): register `Section("approval_definitions", ...)`
  after "roles" (steps name approver roles by code), exporting each definition's current version
  and applying through the workflow services.

Rules every section keeps: items are plain JSON; references are natural keys (object key, field
name, role code, org unit path of names), never database ids; `apply` goes through the owning
app's services (so validation, limits, audit and version bumps hold) and raises ValidationError or
a ServiceError to refuse an item; `export` returns items in an order in which they can be applied.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    name: str
    item_schema: dict  # JSON Schema of one item
    export: Callable[[], list[dict]]  # the tenant's items
    key: Callable[[dict], str]  # an item's natural key, unique within the section
    # Create (`changes` None) or change (`changes` {attribute: [old, new]}) one item.
    apply: Callable[..., None]
    # Remove one item the package lacks (`prune=True`); None: this section never prunes.
    prune: Callable[..., None] | None = None
    # Attributes an item may leave out, with the value that means (so a package that omits
    # `label_zh` does not differ from a tenant whose `label_zh` is "").
    defaults: dict = field(default_factory=dict)
    # {attribute: [old, new]} between the tenant's item and the package's; empty when equal.
    compare: Callable[[dict, dict], dict] = lambda current, item: attribute_changes(current, item)
    # The order to apply the package's items in, as (index, item) pairs.
    order: Callable[[list], list] = lambda indexed: indexed


def attribute_changes(current: dict, item: dict) -> dict:
    """The item's top-level attributes the tenant's item differs in, as {attribute: [old, new]}.
    What the package does not state (after defaults) it does not ask to change."""
    return {name: [current.get(name), value] for name, value in item.items() if current.get(name) != value}


def registered() -> list[Section]:
    """Every section, in application order: objects before the fields that live on them, fields
    before the rules, permissions and views that name them."""
    from metadata.packages.sections import fields, objects, roles, rules, sharing_rules, views

    return [
        objects.SECTION,
        fields.SECTION,
        rules.SECTION,
        roles.SECTION,
        views.SECTION,  # after roles: a view shared with a role names it
        sharing_rules.SECTION,
    ]
