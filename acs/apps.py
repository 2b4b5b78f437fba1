import os

from django.apps import AppConfig


class AcsConfig(AppConfig):
    name = "acs"
    verbose_name = "ACS platform"

    def ready(self) -> None:
        # Connect their receivers: the sign-in one that starts a session's idle clock, and
        # the one that counts setting up a second factor as passing it.
        from acs import (
            metrics,  # noqa: F401  (Celery task outcomes)
            mfa,  # noqa: F401
            request_id,  # noqa: F401  (the request id into and out of Celery tasks)
            sessions,  # noqa: F401
            tracing,
        )

        # Sentry and OpenTelemetry, only when their environment variables are set.
        tracing.setup()

        # runserver's serving process (not its reloader) says which backends it uses;
        # gunicorn and Celery do the same from their own start-up hooks.
        if os.environ.get("RUN_MAIN") == "true":
            from acs.startup import announce

            announce("web")
