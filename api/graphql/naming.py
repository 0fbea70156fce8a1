"""Names in a tenant's GraphQL schema. Field names are the API names REST and the filter language
use ("industry", "custom { tier }"), so a filter written for one API reads the same in the other."""

from metadata import registry


def type_name(info: registry.ObjectInfo) -> str:
    """ "Account" for customers.account, "CustomProject" for custom.project."""
    if info.custom:
        return "Custom" + _camel(info.key.removeprefix(registry.CUSTOM_PREFIX))
    return info.model.__name__


def field_name(info: registry.ObjectInfo) -> str:
    """The root field reading one record: "account", "custom_project"."""
    if info.custom:
        return "custom_" + info.key.removeprefix(registry.CUSTOM_PREFIX)
    return info.model._meta.model_name


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))
