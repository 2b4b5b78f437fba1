"""Verify the audit trail's hash chain (acs/audit_chain.py).

manage.py audit_verify            # exit 0: intact; 1: broken (and where)
manage.py audit_verify --seal     # seal what is waiting first, then verify
"""

from django.core.management.base import BaseCommand, CommandError

from acs.audit_chain import audit_seal, audit_verify


class Command(BaseCommand):
    help = "Check that no audit event was changed, removed or forged since it was sealed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal", action="store_true", help="seal the events waiting for it before checking"
        )

    def handle(self, *args, seal, **options):
        if seal:
            total = 0
            while done := audit_seal():
                total += done
            self.stderr.write(f"Sealed {total} event(s).")
        verdict = audit_verify()
        waiting = f"{verdict.unsealed} not sealed yet"
        if verdict.oldest_unsealed:
            waiting += f" (oldest {verdict.oldest_unsealed:%Y-%m-%d %H:%M:%S %Z})"
        if not verdict.intact:
            raise CommandError(
                f"The audit chain is BROKEN at event #{verdict.broken_at}: {verdict.problem}. "
                f"{verdict.sealed} event(s) before it check out; {waiting}."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {verdict.sealed} event(s) checked; {waiting}.")
        )
