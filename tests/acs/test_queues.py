"""Tasks by kind of work (acs/queues.py): every task of ours has a queue of its kind, chosen in
code, so that a new task cannot land on a queue nobody planned for it."""

import pytest
from django.conf import settings

from acs.celery import app
from acs.queues import BULK, KINDS, MAINTENANCE, REALTIME, TASK_KINDS, queue_name


def our_tasks() -> list[str]:
    app.loader.import_default_modules()  # what autodiscovery registers in a worker
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def routed_queue(name: str, *args) -> str:
    return app.amqp.router.route({}, name, args, {})["queue"].name


def test_every_task_of_ours_is_routed_to_the_queue_of_its_kind():
    tasks = our_tasks()
    assert len(tasks) >= 14

    unrouted = [name for name in tasks if name not in TASK_KINDS]
    assert unrouted == [], "name each new task's kind in acs/queues.py TASK_KINDS"
    assert sorted(TASK_KINDS) == tasks  # and nothing named there that no longer exists
    for name in tasks:
        assert routed_queue(name) == settings.TASK_QUEUE_PREFIX + TASK_KINDS[name], name


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("cases.tasks.send_notification", REALTIME),
        ("cases.tasks.send_notifications", REALTIME),
        ("cases.tasks.sweep_notifications", REALTIME),
        ("resources.tasks.deliver_webhook", REALTIME),
        ("resources.tasks.sweep_webhooks", REALTIME),
        ("cases.tasks.run_export", BULK),
        ("cases.tasks.refresh_transparency", BULK),
        ("cases.tasks.sweep_expired_copies", MAINTENANCE),
        ("resources.tasks.expire_referrals", MAINTENANCE),
        ("resources.tasks.roll_opening_intervals", MAINTENANCE),
        ("cases.tasks.cleanup_exports", MAINTENANCE),
    ],
)
def test_texts_and_webhooks_never_share_a_queue_with_exports(task, kind):
    assert routed_queue(task) == queue_name(kind)


def test_the_heartbeat_goes_to_the_queue_its_argument_names_and_beat_sends_one_to_each():
    for kind in KINDS:
        assert routed_queue("acs.tasks.worker_heartbeat", kind) == queue_name(kind)

    heartbeats = [
        entry["args"]
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "acs.tasks.worker_heartbeat"
    ]
    assert sorted(heartbeats) == sorted((kind,) for kind in KINDS)
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in TASK_KINDS


def test_a_worker_without_queues_named_serves_all_three_and_nothing_lands_elsewhere():
    # What a worker started without -Q consumes: the configured queues (app.amqp.queues itself
    # also gains any queue this process has sent to, e.g. a benchmark's own, earlier in the run).
    assert sorted(q.name for q in app.conf.task_queues) == sorted(queue_name(k) for k in KINDS)
    # A task that is not ours (none is sent today) goes to a queue that is served.
    assert app.conf.task_default_queue == queue_name(MAINTENANCE)


def test_dev_py_up_runs_workers_that_cover_every_queue_once_with_exports_apart():
    import dev

    kinds = [kind for served, _ in dev.WORKERS.values() for kind in served]
    assert sorted(kinds) == sorted(KINDS)
    assert dev.WORKERS["worker-bulk"] == ((BULK,), 1)
    args = dev.worker_args((REALTIME, MAINTENANCE), 2, {"TASK_QUEUE_PREFIX": "p-"})
    assert args[args.index("-Q") + 1] == "p-realtime,p-maintenance"
