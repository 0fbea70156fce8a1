from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Approvals")

    def ready(self):
        from workflows import templates  # noqa: F401  (subscribes the ready templates to their events)
