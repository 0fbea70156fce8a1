"""People: the users of one schema (a tenant's staff and dealers, or in public the platform staff) and their roles."""
