import os

from django.apps import AppConfig


class AcsConfig(AppConfig):
    name = "acs"
    verbose_name = "ACS platform"

    def ready(self) -> None:
        # Connect their receivers: the sign-in one that starts a session's idle clock, and
        # the one that counts setting up a second factor as passing it.
        from acs import (
            mfa,  # noqa: F401
            sessions,  # noqa: F401
        )

        # runserver's serving process (not its reloader) says which backends it uses;
        # gunicorn and Celery do the same from their own start-up hooks.
        if os.environ.get("RUN_MAIN") == "true":
            from acs.startup import announce

            announce("web")
