from pathlib import Path

from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The Django project itself, and the public-schema control plane (sign-up, staff admin)."""

    name = "crm_platform"
    label = "crm_platform"
    # `platform/` has no __init__.py (see pyproject.toml), so Django cannot infer the path.
    path = str(Path(__file__).resolve().parent)
