"""De-identify records past the retention period (cases/services/retention.py).

manage.py retention --dry-run        # what would change
manage.py retention                  # do it (RETENTION_YEARS, default 7)
manage.py retention --years 10

It also removes the short-lived copies past their own expiry (idempotency records and the
like, docs/security.md "Stored copies of personal data"), as beat does every hour.
"""

from django.core.management.base import BaseCommand, CommandError

from cases.services.retention import retention_deidentify, retention_expired_copies


class Command(BaseCommand):
    help = "De-identify residents and free text untouched for RETENTION_YEARS, and report it."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--years", type=int, help="override RETENTION_YEARS")

    def handle(self, *args, dry_run, years, **options):
        if years is not None and years < 1:
            raise CommandError("--years must be 1 or more")
        report = retention_deidentify(years=years, dry_run=dry_run)
        verb = "Would de-identify" if dry_run else "De-identified"
        self.stdout.write(f"{verb} records untouched since {report.cutoff:%Y-%m-%d}:")
        for name, count in report.counts.items():
            self.stdout.write(f"  {name}: {count}")
        copies = retention_expired_copies(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} copies past their own expiry:")
        for name, count in copies.items():
            self.stdout.write(f"  {name}: {count}")
