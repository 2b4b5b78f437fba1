"""Back up the database with pg_dump (custom format): acs/backup.py, docs/operations.md.

manage.py backup /backups/acs-2026-12-05.dump
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from acs.backup import database_backup
from acs.errors import DomainError


class Command(BaseCommand):
    help = "Dump the database to a file (pg_dump custom format) and print the audit chain's head."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the file to write (its folder is created)")

    def handle(self, *args, path, **options):
        try:
            head = database_backup(path=path)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written to {path}."))
        self.stdout.write(f"Audit chain at the time of the backup: {head}.")
