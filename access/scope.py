"""The one filter that decides which records a user may see or change.

Every door to records (services, REST, GraphQL, exports, search, reports, the approvals inbox,
background tasks acting for a user) goes through `RecordQuerySet.visible_to` / `editable_by`, which
call `scope_filter` and nothing else. Tenant isolation comes from the schema; this adds, within a
tenant:

- the role's object permission (no read right: nothing is visible);
- the role's data level, as indexed prefix matches on the paths each record carries:
  own -> owner; unit -> the user's org unit (a dealer: its node); subtree -> the unit or node and
  everything below (a dealer's subtree as an equality on its node's id at its depth once that
  depth's ancestor indexes are ready: access/ancestors.py). Dealers never see beyond their node's
  subtree, whatever their level, and see their child dealers' records only if the tenant allows
  it (ScopeSettings);
- records the user owns, and the customer pool (records with no owner that the model opens to all,
  `StandardRecord.pool_condition`), within the dealer's subtree for dealers;
- sharing: records shared by hand (RecordShare) and records matching a sharing rule (SharingRule),
  for the user, their role, their org unit or channel node, or a unit or node above with
  "include below". Sharing widens a scope, never past the object permission.

Custom objects keep their records in one table (CustomRecord); each object has its own key
("custom.project"), permission and sharing rules. On that table the filter admits only the objects
the user may act on (`object_id IN (...)`), so a queryset narrowed to one object gets exactly that
object's rights, and one spanning several gets each its own.

No recursive query and no row-level security: every condition is a comparison on the record's own
indexed columns (see ../shared/DESIGN.md, "Known traps").
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from access import ancestors as ancestor_indexes
from access.models import Access, RecordShare, ScopeSettings, SharingRule
from access.permissions import is_custom_record, object_key
from access.principal import Principal, principal_of
from accounts.models import Role
from channels.models import ChannelNode

NOTHING = Q(pk__in=[])
LEVEL = Role.DataLevel


def scope_filter(model, user, *, action: str = "read") -> Q:
    """The condition on `model`'s rows that `user` may read (action "read") or change ("update")."""
    principal = principal_of(user)
    if principal is None:
        return Q()
    if not principal.active:
        return NOTHING
    keys, within = _permitted(model, principal, action)
    if not keys:
        return NOTHING
    condition = _by_level(model, principal, principal.settings)
    if principal.shared_objects & {object_key(model), *keys}:
        shared = _shared(model, keys, user, principal, edit=action != "read")
        if shared is not None:
            condition |= shared
    return within & condition


def _permitted(model, principal: Principal, action: str) -> tuple[list[str], Q]:
    """The object keys `action` is allowed on, and the condition keeping rows to those objects."""
    if not is_custom_record(model):
        key = object_key(model)
        return ([key], Q()) if principal.allows(key, action) else ([], NOTHING)
    # Imported here: the registry's models import this module.
    from metadata.registry import snapshot

    objects = [d for d in snapshot().objects.values() if d.is_active and principal.allows(d.key, action)]
    return [d.key for d in objects], Q(object_id__in=[d.pk for d in objects])


def _by_level(model, principal: Principal, settings: ScopeSettings) -> Q:
    own = model.held_by(principal.user_id)
    level = principal.data_level
    pool = model.pool_condition()
    if principal.is_dealer:
        subtree = _subtree(principal)
        below = level in (LEVEL.SUBTREE, LEVEL.ALL) and settings.dealers_see_children
        area = subtree if below else Q(channel_path=principal.node_path)
        # Own records placed elsewhere (by the brand, say) stay out of a dealer's reach.
        condition = own & subtree if level == LEVEL.OWN else area | (own & subtree)
        return condition | (pool & area) if pool is not None else condition
    if level == LEVEL.ALL:
        if settings.brand_sees_channel:
            return Q()
        brand = Q(channel_path="") | Q(channel_path__in=_brand_paths())
        return own | brand
    if level == LEVEL.SUBTREE and principal.org_path:
        condition = own | Q(org_path__startswith=principal.org_path)
    elif level == LEVEL.UNIT and principal.org_path:
        condition = own | Q(org_path=principal.org_path)
    else:
        condition = own
    return condition | pool if pool is not None else condition


def _subtree(principal: Principal) -> Q:
    """The dealer's node and everything below it. Where its depth's ancestor indexes are ready, the
    equality on the node's id at that depth, which an (expression, id) index serves in id order
    whatever the age of the records; else the prefix match. Both select the same rows
    (access/ancestors.py)."""
    if ancestor_indexes.depth_of(principal.node_path) in principal.indexed_depths:
        return ancestor_indexes.subtree(principal.node_path)
    return Q(channel_path__startswith=principal.node_path)


def _brand_paths() -> list[str]:
    return list(ChannelNode.objects.filter(level=ChannelNode.Level.BRAND).values_list("path", flat=True))


def _shared(model, keys: list[str], user, principal: Principal, *, edit: bool) -> Q | None:
    reach = principal.reach()
    if edit:
        reach &= Q(access=Access.EDIT)
    content_type = ContentType.objects.get_for_model(model)
    ids = list(
        RecordShare.objects.filter(reach, content_type=content_type).values_list("object_id", flat=True)
    )
    conditions = [Q(pk__in=ids)] if ids else []
    rules = SharingRule.objects.filter(reach, object__in=keys, is_active=True).only("object", "criteria")
    if rules:
        from access.sharing import rule_condition

        conditions += [rule_condition(rule, model, user) for rule in rules]
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined
