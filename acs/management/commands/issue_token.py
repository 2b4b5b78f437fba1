from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from acs.roles import Role
from acs.tokens import token_issue

KINDS = {"cad": Role.CAD_INTEGRATION}


class Command(BaseCommand):
    help = (
        "Issue a bearer token for a machine client and print it once. "
        "Example: manage.py issue_token cad city-cad"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS), help="what the client is")
        parser.add_argument("name", help="a name for the client, e.g. city-cad")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=365,
            help="days until the token expires (0: never; default 365)",
        )

    def handle(self, *args, kind, name, expires_in_days, **options):
        if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 60:
            raise CommandError("NAME may hold letters, digits, '-' and '_' (at most 60)")
        if expires_in_days < 0:
            raise CommandError("--expires-in-days cannot be negative")
        expires = timedelta(days=expires_in_days) if expires_in_days else None
        row, token = token_issue(role=KINDS[kind], name=name, expires_in=expires)
        self.stdout.write(token)
        when = row.expires_at.isoformat() if row.expires_at else "never"
        self.stderr.write(
            f"Token {row.prefix}… for {kind} client '{name}' (expires {when}). "
            "It is shown only now: store it in the client's secret store."
        )
