"""Whether a worker takes tasks off the queue: the health check of the worker and beat
containers (docker-compose.yml).

manage.py worker_health     # exit 0: a fresh heartbeat; 1: none, or older than the limit

Beat queues the heartbeat task every 30 s and a worker records it (acs/tasks.py), so a stale
heartbeat means the worker, beat or the broker between them has stopped: the same check as
/healthz's "worker", without the web server.
"""

from django.core.management.base import BaseCommand, CommandError

from acs import health


class Command(BaseCommand):
    help = "Exit 1 unless a worker recorded the heartbeat within HEALTH_WORKER_MAX_AGE."
    # Run every few seconds by the container runtime: skip the system checks.
    requires_system_checks: list[str] = []

    def handle(self, *args, **options):
        check = health.check_worker()
        if not check.ok:
            raise CommandError(f"worker: {check.detail}")
        self.stdout.write(f"worker: {check.detail}")
