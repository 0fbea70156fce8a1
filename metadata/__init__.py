"""Metadata engine: the registry of objects and fields, custom fields, views, the filter language."""
