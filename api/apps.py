from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Outgoing webhooks subscribe to the domain events here, so every process that publishes
        # events (web, Celery worker, management commands) delivers them; importing the
        # subscriber also registers its Celery task with the worker.
        from api.webhooks import subscriber  # noqa: F401
