"""gunicorn settings: `gunicorn -c python:acs.gunicorn_conf acs.wsgi`."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30
graceful_timeout = 20
# The access log carries paths only; URLs never hold personal data (public_id UUIDs only).
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    import django

    django.setup()
    from acs.startup import announce

    announce("web")
