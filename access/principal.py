"""The acting user as the access rules see them: role, data level, places in both trees, grants.

Kept on the user object (like Django's permission cache), so the several scope checks of one
request cost their lookups once, and across requests in a per-process LRU keyed by the tenant's
access stamp (access/stamp.py) and the user's own role, unit and status: a request pays one stamp
query instead of building the principal again. Any change of access draws a new stamp, so the
next request of every process sees the new rights.
"""

from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import Q

from access.defaults import default_allows
from access.models import (
    AccessState,
    AncestorIndex,
    ObjectPermission,
    RecordShare,
    ScopeSettings,
    SharingRule,
)
from accounts.models import OrgUnit, Role
from channels.models import ChannelMember
from crm_platform.lru import BoundedCache

CACHE_ATTRIBUTE = "_access_principal"
CACHED_PRINCIPALS = 4096
_cache = BoundedCache(CACHED_PRINCIPALS)


def ancestors(path: str) -> list[int]:
    """The ids on a materialised path, root first: "/1/4/9/" -> [1, 4, 9]."""
    return [int(part) for part in path.strip("/").split("/") if part]


@dataclass(frozen=True)
class Principal:
    user_id: int
    active: bool
    role_id: int | None
    role_code: str | None  # only for shipped roles, which carry defaults
    data_level: str
    org_unit_id: int | None
    org_path: str
    node_id: int | None  # set for dealer users: the channel node they work for
    node_path: str
    grants: dict[str, ObjectPermission] = field(default_factory=dict, compare=False)
    settings: ScopeSettings | None = field(default=None, compare=False)
    # Objects with a share or sharing rule reaching this user: only those pay for a sharing lookup.
    shared_objects: frozenset[str] = frozenset()
    # Depths of the channel tree whose ancestor indexes are ready (access/ancestors.py); read for
    # dealers only, whose subtree the scope filter then writes as the indexed equality.
    indexed_depths: frozenset[int] = frozenset()

    @property
    def is_dealer(self) -> bool:
        return self.node_id is not None

    def permission(self, object_key: str) -> ObjectPermission | None:
        return self.grants.get(object_key)

    def reach(self) -> Q:
        """Shares and sharing rules that reach this user: theirs, their role's, their unit's or
        node's, or those of a unit or node above them that include everyone below."""
        reach = Q(user_id=self.user_id)
        if self.role_id:
            reach |= Q(role_id=self.role_id)
        for column, place, path in (
            ("org_unit_id", self.org_unit_id, self.org_path),
            ("channel_node_id", self.node_id, self.node_path),
        ):
            if place:
                above = ancestors(path)[:-1]
                reach |= Q(**{column: place}) | Q(**{f"{column}__in": above}, include_below=True)
        return reach

    def allows(self, object_key: str, action: str) -> bool:
        row = self.grants.get(object_key)
        if row is not None:
            return getattr(row, f"can_{action}")
        return default_allows(self.role_code, object_key, action)


def principal_of(user) -> Principal | None:
    """None for the system (background work), which sees everything of its tenant."""
    if user is None:
        return None
    cached = getattr(user, CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    stamp = AccessState.objects.values_list("stamp", flat=True).first()
    # What the stamp does not cover is read from the user row this request loaded.
    key = (connection.schema_name, stamp, user.pk, user.role_id, user.org_unit_id, user.is_active)
    principal = _cache.get(key) if stamp is not None else None
    if principal is None:
        principal = _built(user)
        if stamp is not None:
            _cache.put(key, principal)
    setattr(user, CACHE_ATTRIBUTE, principal)
    return principal


def _built(user) -> Principal:
    # Every read here comes after the stamp's: a change committing in between is seen, at worst
    # cached under the stamp before it, which the next request no longer reads.
    role = Role.objects.filter(pk=user.role_id).first() if user.role_id else None
    # Read the unit's path afresh: a cached `user.org_unit` may predate a move of the tree.
    unit_path = OrgUnit.objects.filter(pk=user.org_unit_id).values_list("path", flat=True).first() or ""
    membership = ChannelMember.objects.filter(user_id=user.pk).select_related("node").first()
    grants = {row.object: row for row in ObjectPermission.objects.filter(role_id=user.role_id)}
    principal = Principal(
        user_id=user.pk,
        active=bool(user.is_active and user.pk),
        role_id=user.role_id,
        role_code=role.code if role is not None and role.is_system else None,
        data_level=role.data_level if role is not None else Role.DataLevel.OWN,
        org_unit_id=user.org_unit_id,
        org_path=unit_path,
        node_id=membership.node_id if membership else None,
        node_path=membership.node.path if membership else "",
        grants=grants,
        settings=ScopeSettings.current(),
        indexed_depths=_indexed_depths() if membership else frozenset(),
    )
    return replace(principal, shared_objects=_shared_objects(principal))


def forget(user) -> None:
    """Drop the cached principal (after changing the user's role or place in the same request)."""
    if user is not None and hasattr(user, CACHE_ATTRIBUTE):
        delattr(user, CACHE_ATTRIBUTE)


def _indexed_depths() -> frozenset[int]:
    ready = AncestorIndex.objects.filter(built_at__isnull=False).values_list("depth", flat=True)
    return frozenset(ready)


def _shared_objects(principal: Principal) -> frozenset[str]:
    reach = principal.reach()
    shared = (
        RecordShare.objects.filter(reach)
        .values_list("content_type__app_label", "content_type__model")
        .distinct()
    )
    ruled = SharingRule.objects.filter(reach, is_active=True).values_list("object", flat=True).distinct()
    return frozenset([f"{app}.{model}" for app, model in shared] + list(ruled))
