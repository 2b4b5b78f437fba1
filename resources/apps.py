from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Resource directory"

    def ready(self) -> None:
        # The receivers that keep the opening intervals equal to the schedules.
        from resources.services import opening_hours  # noqa: F401
