"""Issue a bearer token for a machine client (docs/api.md, docs/operations.md).

manage.py issue_token cad NAME
manage.py issue_token partner ORGANIZATION_ID NAME     # ORGANIZATION_ID: the HSDS id
"""

import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from acs.tokens import TOKEN_KINDS, partner_organizations, token_issue


class Command(BaseCommand):
    help = (
        "Issue a bearer token for a machine client and print it once. "
        "Examples: manage.py issue_token cad city-cad; "
        "manage.py issue_token partner ORGANIZATION_ID westside-shelter"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(TOKEN_KINDS), help="what the client is")
        parser.add_argument(
            "names",
            nargs="+",
            metavar="[ORGANIZATION_ID] NAME",
            help="for a partner, its organization's HSDS id, then a name for the client "
            "(e.g. city-cad)",
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=365,
            help="days until the token expires (0: never; default 365)",
        )

    def handle(self, *args, kind, names, expires_in_days, **options):
        organization = None
        if kind == "partner":
            if len(names) != 2:
                raise CommandError("Usage: issue_token partner ORGANIZATION_ID NAME")
            organization = self._organization(names[0])
        elif len(names) != 1:
            raise CommandError(f"Usage: issue_token {kind} NAME")
        name = names[-1]
        if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 60:
            raise CommandError("NAME may hold letters, digits, '-' and '_' (at most 60)")
        if expires_in_days < 0:
            raise CommandError("--expires-in-days cannot be negative")
        expires = timedelta(days=expires_in_days) if expires_in_days else None
        row, token = token_issue(
            role=TOKEN_KINDS[kind], name=name, expires_in=expires, organization=organization
        )
        self.stdout.write(token)
        when = row.expires_at.isoformat() if row.expires_at else "never"
        whose = f" of {organization.name}" if organization else ""
        self.stderr.write(
            f"Token {row.prefix}… for {kind} client '{name}'{whose} (expires {when}). "
            "It is shown only now: store it in the client's secret store."
        )

    def _organization(self, value: str):
        try:
            public_id = uuid.UUID(value)
        except ValueError as exc:
            raise CommandError(f"{value!r} is not an organization id (a UUID).") from exc
        organization = partner_organizations().filter(public_id=public_id).first()
        if organization is None:
            raise CommandError(
                f"No organization {public_id} in the directory "
                "(its id is the HSDS id, as in /api/hsds/organizations)."
            )
        return organization
