"""(Re)build every service at location's opening intervals for today's window.

    .venv/bin/python manage.py build_opening_intervals

What the hourly `resources.tasks.roll_opening_intervals` does once a day, forced: after a
deploy that adds the table, after restoring a database, or after writing schedules with
something that sends no signals. Until it has run, "open now" judges schedules in Python.
"""

import time

from django.core.management.base import BaseCommand

from resources.services.opening_hours import opening_intervals_roll, window_recorded


class Command(BaseCommand):
    help = "Rebuild the opening intervals of the whole directory (docs/directory.md)."

    def handle(self, *args, **options):
        start = time.perf_counter()
        written = opening_intervals_roll(force=True, progress=self.stdout.write)
        if written is None:
            self.stdout.write("Another rebuild is running; nothing done.")
            return
        first, last = window_recorded() or (None, None)
        self.stdout.write(
            f"{written} opening intervals for sessions starting {first} to {last}, "
            f"in {time.perf_counter() - start:.1f} s"
        )
