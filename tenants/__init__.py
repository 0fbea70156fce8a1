"""Tenants: the companies on the platform, their hosts, and how their schemas are built and retired."""
