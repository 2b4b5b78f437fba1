"""Stream the sealed audit trail to a SIEM: JSON lines or CEF, resumable (acs/audit_export.py).

manage.py audit_export --format jsonl --after 0 > audit.jsonl      # everything so far
manage.py audit_export --format cef --state /var/lib/acs/siem.seq | logger -t acs-audit
    # each run sends what was sealed since the last one and records where it stopped

The last exported position is printed on stderr ("last seq N") and, with --state, written to
that file once every line is out, so a run that fails half-way is repeated from its start.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from acs.audit_export import audit_export_lines, product_version


class Command(BaseCommand):
    help = "Write the sealed audit events after a sequence number as JSON lines or CEF."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["jsonl", "cef"], default="jsonl", dest="fmt")
        parser.add_argument(
            "--after",
            type=int,
            default=None,
            help="export the events sealed after this seq (default: the --state file, else 0)",
        )
        parser.add_argument(
            "--state",
            type=Path,
            help="a file holding the last exported seq: read to resume, rewritten at the end",
        )
        parser.add_argument(
            "--output", type=Path, help="append to this file instead of standard output"
        )
        parser.add_argument("--limit", type=int, default=None, help="at most this many events")

    def handle(self, *args, fmt, after, state, output, limit, **options):
        if after is None:
            after = _read_state(state) if state and state.exists() else 0
        if after < 0:
            raise CommandError("--after must be 0 or more")
        version = product_version()
        last, count = after, 0
        out = output.open("a", encoding="utf-8") if output else self.stdout
        try:
            for seq, line in audit_export_lines(after=after, fmt=fmt, version=version):
                out.write(line + "\n")
                last, count = seq, count + 1
                if limit is not None and count >= limit:
                    break
            out.flush()
        finally:
            if output:
                out.close()
        if state:
            partial = state.with_name(state.name + ".partial")
            partial.write_text(f"{last}\n")
            partial.replace(state)
        self.stderr.write(f"Exported {count} event(s) after seq {after}; last seq {last}.")


def _read_state(state: Path) -> int:
    text = state.read_text().strip()
    if not text.isdigit():
        raise CommandError(f"{state} does not hold a sequence number")
    return int(text)
