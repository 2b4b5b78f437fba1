from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Calls, residents and encounters"

    def ready(self) -> None:
        from cases.display import register_labels

        register_labels()
