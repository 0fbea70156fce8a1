"""Ancestor indexes: a dealer's subtree as one indexed equality, whatever the age of its records.

A record's `channel_path` ("/1/4/9/") names every node above it; the node at depth d (the brand is
depth 1) is `split_part(channel_path, '/', d + 1)`. So node 4's subtree (node 4 at depth 2) is
`split_part(channel_path, '/', 3) = '4'` as well as `channel_path LIKE '/1/4/%'`: the same rows,
since node ids are unique and every path starts at a root. An index on (that expression, id)
serves a scoped page in id order by reading the page's entries alone, where the prefix match is
served by walking the primary key and filtering, which reads every older record when the dealer's
records are the newest (benchmarks/README.md, "scope").

Indexes are per depth and record table, so a tenant pays only for the depths its tree has: none for
a brand and its direct dealers, (depth - 1) per record table for a deeper tree. They are built
CONCURRENTLY by a background task (access/tasks.py), requested after commit when a node lands at a
depth with none yet (channels/services.py). `AncestorIndex` keeps each depth, requested then ready;
it decides access, so marking a depth ready draws a new access stamp, every process's principals
learn it (access/principal.py), and the scope filter (access/scope.py) writes that depth's subtrees
as the equality.
"""

import logging
from collections.abc import Iterable

from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, F, Func, Q, Value
from django.db.models.functions import Length, Replace
from django.db.models.lookups import Exact
from django.db.models.sql import Query
from django.utils import timezone

from access.models import AncestorIndex

logger = logging.getLogger(__name__)
FIRST_INDEXED_DEPTH = 2  # depth 1, the brand, sees its whole tree: nothing to narrow
SUFFIX = "_anc"


def depth_of(path: str) -> int:
    """The depth of the node with this path: "/1/" -> 1, "/1/4/9/" -> 3."""
    return path.strip("/").count("/") + 1 if path.strip("/") else 0


def ancestor_at(depth: int) -> Func:
    """The id (as text) of the record's ancestor at `depth`, '' above the record's own depth."""
    return Func(
        F("channel_path"), Value("/"), Value(depth + 1), function="split_part", output_field=CharField()
    )


def subtree(path: str) -> Q:
    """The records at the node with this path and below, as the equality the index serves."""
    return Q(Exact(ancestor_at(depth_of(path)), Value(path.strip("/").rsplit("/", 1)[-1])))


def index_name(table: str, depth: int) -> str:
    return f"{table[:55]}{SUFFIX}{depth}"


def request(depths: Iterable[int]) -> None:
    """Build the indexes of those of `depths` that have none yet, in the background after commit.

    Called where a node lands at a depth (adding, moving). A depth is requested once: its row is
    inserted here, and only the transaction that inserted it queues the build.
    """
    wanted = {depth for depth in depths if depth >= FIRST_INDEXED_DEPTH}
    if not wanted or wanted <= set(AncestorIndex.objects.values_list("depth", flat=True)):
        return
    table = connection.ops.quote_name(AncestorIndex._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (depth) SELECT unnest(%s::int[]) "
            "ON CONFLICT (depth) DO NOTHING RETURNING depth",
            [sorted(wanted)],
        )
        if not cursor.fetchall():
            return
    from access.tasks import build_ancestor_indexes

    schema = connection.schema_name
    # After commit: the worker must see the nodes, and CONCURRENTLY cannot run in a transaction.
    transaction.on_commit(lambda: build_ancestor_indexes.delay(schema))


def tree_depths(under: str = "/") -> set[int]:
    """The depths of the tenant's channel tree (of the nodes whose path starts with `under`) that
    want an index."""
    from channels.models import ChannelNode

    depths = (
        ChannelNode.objects.filter(path__startswith=under)
        .annotate(depth=Length("path") - Length(Replace("path", Value("/"))) - 1)
        .values_list("depth", flat=True)
        .distinct()
        .order_by()
    )
    return {depth for depth in depths if depth >= FIRST_INDEXED_DEPTH}


def build() -> list[int]:
    """Build every ancestor index the tenant's tree wants and mark those depths ready; returns the
    depths newly marked. Safe to run again: what exists and is valid is kept, an INVALID left-over
    of a failed concurrent build is dropped and rebuilt, a record table added since gets its
    indexes. Outside a transaction (the worker, the command) builds are CONCURRENTLY; inside one (a
    test) they are plain."""
    from access.rescope import record_models  # imports the record models, which import the scope

    concurrently = not connection.in_atomic_block
    depths = tree_depths() | set(AncestorIndex.objects.values_list("depth", flat=True))
    wanted = {
        index_name(model._meta.db_table, depth): (model, depth)
        for model in record_models()
        for depth in depths
    }
    has = _existing(list(wanted))
    built_on = set()
    for name, (model, depth) in sorted(wanted.items(), key=lambda item: (item[1][1], item[0])):
        if has.get(name):
            continue
        if name in has:  # INVALID: a concurrent build that failed half-way
            _drop(name, concurrently)
        try:
            _run(_create_sql(model, depth, name, concurrently), concurrently)
        except DatabaseError:
            _drop(name, concurrently)
            # Forget the request, so the next node placed at this depth asks again.
            AncestorIndex.objects.filter(depth=depth, built_at__isnull=True).delete()
            raise
        built_on.add(model._meta.db_table)
    # The planner estimates the equality from the index expression's statistics, which only an
    # ANALYZE of the table computes.
    for table in sorted(built_on):
        _run(f"ANALYZE {_quote(table)}", concurrently)
    return _mark_ready(depths)


def _mark_ready(depths: set[int]) -> list[int]:
    with transaction.atomic():
        ready = set(AncestorIndex.objects.filter(built_at__isnull=False).values_list("depth", flat=True))
        new = sorted(depths - ready)
        if new:
            now = timezone.now()
            known = set(AncestorIndex.objects.filter(depth__in=new).values_list("depth", flat=True))
            AncestorIndex.objects.bulk_create(
                [AncestorIndex(depth=d) for d in new if d not in known], ignore_conflicts=True
            )
            AncestorIndex.objects.filter(depth__in=new).update(built_at=now)
            logger.info("ancestor indexes ready for depths %s", new)
        return new


def _create_sql(model, depth: int, name: str, concurrently: bool) -> str:
    how = "CONCURRENTLY " if concurrently else ""
    table = _quote(model._meta.db_table)
    columns = f"({_sql(model, depth)}), {_quote('id')}"
    return f"CREATE INDEX {how}IF NOT EXISTS {_quote(name)} ON {table} ({columns})"


def _sql(model, depth: int) -> str:
    """The expression as the ORM compiles it in the scope filter, so the planner matches the two."""
    query = Query(model)
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(ancestor_at(depth).resolve_expression(query, allow_joins=False))
    return connection.ops.compose_sql(sql, params)


def _existing(names: list[str]) -> dict[str, bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)",
            [names],
        )
        return dict(cursor.fetchall())


def _drop(name: str, concurrently: bool) -> None:
    _run(f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {_quote(name)}", concurrently)


def _run(sql: str, concurrently: bool) -> None:
    if concurrently:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
