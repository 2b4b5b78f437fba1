"""Restore a backup into another database, then verify its audit chain (the restore drill).

manage.py restore /backups/acs.dump --into postgres://acs@db:5432/acs_drill --create
Exit 0: restored and `audit_verify` passed on the copy; otherwise exit 1 and why.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from acs.backup import database_restore
from acs.errors import DomainError


class Command(BaseCommand):
    help = "Restore a pg_dump file into a database given by URL and verify its audit chain."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a file written by `manage.py backup`")
        parser.add_argument(
            "--into",
            required=True,
            help="postgres:// URL of the database to restore into (never the running one)",
        )
        parser.add_argument(
            "--create", action="store_true", help="create that database first (it must not exist)"
        )

    def handle(self, *args, path, into, create, **options):
        try:
            result = database_restore(path=path, target_url=into, create=create)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored into {result.database}."))
        self.stdout.write(result.verify_output)
