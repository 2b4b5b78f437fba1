"""Celery tasks of exports: thin adapters over cases/exports/services.py. They are imported
by cases/tasks.py, where autodiscovery finds them."""

from celery import shared_task

from cases.exports import services


@shared_task(
    name="cases.tasks.run_export",
    ignore_result=True,
    # Millions of rows take minutes; services.LEASE is longer than the hard limit.
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def run_export(job_id: int) -> str | None:
    """Build one export; harmless when it is finished or another worker has it."""
    job = services.export_run(job_id=job_id)
    return job.status if job else None


@shared_task(name="cases.tasks.cleanup_exports", ignore_result=True)
def cleanup_exports() -> int:
    """Remove expired export files, batch after batch until none are left."""
    total = 0
    while True:
        done = services.exports_cleanup_expired()
        total += done
        if done < services.CLEANUP_BATCH:
            return total
