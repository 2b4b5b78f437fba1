"""Whether workers take tasks off their queues: the health check of the worker and beat
containers (docker-compose.yml).

manage.py worker_health                                # every queue
manage.py worker_health --queues realtime,maintenance  # the queues this container serves

Exit 0: each queue named has a fresh heartbeat; 1: one has none, or one older than the limit,
and the message names it. Beat queues a heartbeat into each queue every 30 s and a worker
serving that queue records it (acs/tasks.py; a worker busy with one of the queue's tasks records
it too, acs/celery.py), so a stale heartbeat means no worker serves the queue, or beat or the
broker between them has stopped: the same check as /healthz's "worker", without the web server.
"""

from django.core.management.base import BaseCommand, CommandError

from acs import health
from acs.queues import KINDS, parse_kinds


class Command(BaseCommand):
    help = "Exit 1 unless each queue named was served within HEALTH_WORKER_MAX_AGE."
    # Run every few seconds by the container runtime: skip the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--queues",
            default="",
            help=f"comma-separated kinds of queue to check ({', '.join(KINDS)}); default: all",
        )

    def handle(self, *args, **options):
        try:
            kinds = parse_kinds(options["queues"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        check = health.check_worker(kinds)
        if not check.ok:
            raise CommandError(f"worker: {check.detail}")
        self.stdout.write(f"worker: {check.detail}")
