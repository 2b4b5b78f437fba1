import os

from django.apps import AppConfig


class AcsConfig(AppConfig):
    name = "acs"
    verbose_name = "ACS platform"

    def ready(self) -> None:
        # Connects the sign-in receiver that starts a session's idle clock.
        from acs import sessions  # noqa: F401

        # runserver's serving process (not its reloader) says which backends it uses;
        # gunicorn and Celery do the same from their own start-up hooks.
        if os.environ.get("RUN_MAIN") == "true":
            from acs.startup import announce

            announce("web")
