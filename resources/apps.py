from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "Resource directory"

    def ready(self) -> None:
        from resources.services import opening_hours

        # The receivers that keep the opening intervals equal to the schedules.
        opening_hours.connect_receivers()
