"""The one-line-each statement of which database and broker a process uses."""

import logging

from django.conf import settings

logger = logging.getLogger("acs.startup")


def describe_backends() -> list[str]:
    db = settings.DATABASES["default"]
    if settings.DATABASE_ORIGIN == "embedded":
        database = f"database: embedded PostgreSQL (data in {settings.BASE_DIR / '.local/pgdata'})"
    else:
        where = db.get("HOST") or "local socket"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        database = f"database: PostgreSQL {db['NAME']} at {where}{port} (from DATABASE_URL)"
    if settings.REDIS_URL:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.REDIS_URL)
        # Host and port only: the URL may carry a password.
        where = f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"
        broker = f"broker and cache: Redis at {where} (from REDIS_URL)"
    else:
        broker = (
            "broker and cache: local (kombu filesystem transport and file cache in "
            f"{settings.LOCAL_DIR}); set REDIS_URL to use Redis"
        )
    return [database, broker]


def announce(process: str) -> None:
    for line in describe_backends():
        logger.info("%s: %s", process, line)
