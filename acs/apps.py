import os

from django.apps import AppConfig


class AcsConfig(AppConfig):
    name = "acs"
    verbose_name = "ACS platform"

    def ready(self) -> None:
        from acs import metrics, mfa, request_id, sessions, tracing

        # Receivers, connected here and nowhere else (no module connects one on import): the
        # Celery task outcomes counted, the request id into and out of Celery tasks, the idle
        # clock started at sign-in, setting up a second factor counted as passing it.
        metrics.connect_receivers()
        request_id.connect_receivers()
        sessions.connect_receivers()
        mfa.connect_receivers()

        # Sentry and OpenTelemetry, only when their environment variables are set.
        tracing.setup()

        # runserver's serving process (not its reloader) says which backends it uses;
        # gunicorn and Celery do the same from their own start-up hooks.
        if os.environ.get("RUN_MAIN") == "true":
            from acs.startup import announce

            announce("web")
