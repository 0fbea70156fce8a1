"""A few tenant schemas built ahead of time, so sign-up renames one instead of replaying DDL.

Replay time grows with the schema (every table, index and trigger of every app); a rename does
not. The pool is filled after each deploy (`migrate_schemas`) and in the background after each
claim (`tenants.tasks.refill_ready_schemas`); when it is empty, sign-up falls back to the replay,
so an empty pool is slower, never broken. Only schemas built from the snapshot that matches the
running code are claimed. A sign-up rolled back after its claim puts the schema back with its
sequences advanced (sequences are not transactional): that tenant's ids start a little later,
nothing else differs.
"""

import logging
import uuid

from django.conf import settings
from django.db import connection, transaction

from tenants.models import ReadySchema
from tenants.provisioning import template

log = logging.getLogger(__name__)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def claim(schema_name: str, digest: str) -> bool:
    """Inside the caller's transaction: rename a ready schema to `schema_name`, if one is there.

    SKIP LOCKED lets concurrent sign-ups take different schemas instead of queueing on one.
    """
    ready = (
        ReadySchema.objects.select_for_update(skip_locked=True)
        .filter(migration_digest=digest)
        .order_by("id")
        .first()
    )
    if ready is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {_quote(ready.schema_name)} RENAME TO {_quote(schema_name)}")
    ready.delete()
    return True


def drop_stale(digest: str) -> int:
    """Drop ready schemas built from another snapshot than `digest`."""
    stale = list(ReadySchema.objects.exclude(migration_digest=digest))
    for ready in stale:
        with transaction.atomic():
            template.drop_schema(ready.schema_name)
            ready.delete()
    return len(stale)


def drain() -> int:
    """Drop every ready schema (benchmarks and tests measure the replay fallback with it)."""
    return drop_stale(digest="")


def fill(size: int | None = None) -> int:
    """Build ready schemas until the pool holds `size` (settings.READY_SCHEMAS) for the current
    snapshot; returns how many were built. Each is replayed in its own transaction."""
    size = settings.READY_SCHEMAS if size is None else size
    snapshot = template.current_snapshot()
    if snapshot is None:
        return 0
    drop_stale(snapshot.migration_digest)
    built = 0
    while ReadySchema.objects.filter(migration_digest=snapshot.migration_digest).count() < size:
        name = f"ready_{uuid.uuid4().hex[:16]}"
        with transaction.atomic():
            template.replay(name, snapshot.ddl)
            connection.set_schema_to_public()
            ReadySchema.objects.create(schema_name=name, migration_digest=snapshot.migration_digest)
        built += 1
    connection.set_schema_to_public()
    if built:
        log.info("ready schema pool: built %d for snapshot %s", built, snapshot.migration_digest[:12])
    return built
