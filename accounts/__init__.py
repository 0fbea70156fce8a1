"""People: the users of one schema (a tenant's staff and dealers; in public, platform staff) and roles."""
