"""The access stamp: drawn anew whenever anything that decides what a user may see or do changes
(roles, object and field permissions, shares, sharing rules, scope settings, the org and channel
trees and who belongs where). Principals are cached across requests under it
(access/principal.py), so a change is seen by the next request of every process.

A statement trigger on each such table draws it, not a signal: the bulk UPDATE that rewrites a
subtree's paths on a move, raw SQL, fixtures and the admin all invalidate it, and no new code path
can forget to.
"""

import pgtrigger

STAMP_TABLE = "access_accessstate"  # access.models.AccessState

DRAW_STAMP = f"""
    -- The shared apps' tables (roles, org units) also exist in the public schema, which has no
    -- access tables: there is nothing to invalidate there.
    IF to_regclass('{STAMP_TABLE}') IS NOT NULL THEN
        INSERT INTO {STAMP_TABLE} (id, stamp) VALUES (1, gen_random_uuid())
        ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    END IF;
    RETURN NULL;
"""


def decides_access(model):
    """Class decorator: any insert, update, delete or truncate of this model's table draws a new
    access stamp."""
    return pgtrigger.register(
        pgtrigger.Trigger(
            name="access_changed",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete | pgtrigger.Truncate,
            func=DRAW_STAMP,
        )
    )(model)
