"""Celery messages carry ids, never personal data: a task re-reads its rows (shared/STYLE.md),
so nothing about a resident sits in the broker, a dead-letter queue or a worker's log.

Two guards: every task of ours takes only ids and flags (its signature), and every place that
queues one passes only ids and flags (the calls, read from the source)."""

import ast
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("acs.", "cases.", "resources.", "responders.")
QUEUEING = {"delay", "apply_async"}
QUEUE_KIND = "Literal['realtime', 'bulk', 'maintenance']"


def _is_id_or_flag(node: ast.expr) -> bool:
    """`pk`, `job_id`, `job.pk`, `endpoint.pk`, `True`, `None`, `3`: an id or a flag; `kind`,
    a kind of queue (acs.queues.QueueKind, one of three constants)."""
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, bool | int)
    if isinstance(node, ast.Name):
        return node.id in {"pk", "id", "kind"} or node.id.endswith(("_pk", "_id", "_ids"))
    if isinstance(node, ast.Attribute):
        return node.attr in {"pk", "id"} or node.attr.endswith(("_pk", "_id"))
    return False


def _queueing_calls():
    for app in APPS:
        for path in sorted((ROOT / app.rstrip(".")).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in QUEUEING
                ):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node


def test_every_task_is_queued_with_ids_and_flags_only():
    calls = list(_queueing_calls())
    # notification batches, exports, webhook batches, alerts, transparency, heartbeats
    assert len(calls) >= 6
    bad = []
    for where, call in calls:
        values = [*call.args, *(k.value for k in call.keywords)]
        if call.func.attr == "apply_async":
            # apply_async((...), {...}, countdown=...) or apply_async(args=..., kwargs=...):
            # look inside the args and kwargs, positional or named.
            values = []
            for position in call.args[:2]:
                if isinstance(position, ast.List | ast.Tuple):
                    values += position.elts
                elif isinstance(position, ast.Dict):
                    values += position.values
                else:
                    values.append(position)
            for keyword in call.keywords:
                if keyword.arg == "args" and isinstance(keyword.value, ast.List | ast.Tuple):
                    values += keyword.value.elts
                elif keyword.arg == "kwargs" and isinstance(keyword.value, ast.Dict):
                    values += keyword.value.values
                elif keyword.arg in {"args", "kwargs"}:
                    values.append(keyword.value)
        bad += [f"{where}: {ast.unparse(v)}" for v in values if not _is_id_or_flag(v)]
    assert bad == []


def test_our_tasks_take_only_ids_and_flags():
    from acs.celery import app

    app.loader.import_default_modules()
    tasks = {name: task for name, task in app.tasks.items() if name.startswith(APPS)}
    assert len(tasks) >= 10
    bad = []
    for name, task in tasks.items():
        for parameter in inspect.signature(task.run, eval_str=True).parameters.values():
            kind = inspect.formatannotation(parameter.annotation)
            flag = kind in {"bool", "bool | None", QUEUE_KIND}
            an_id = kind in {"int", "int | None"} and _is_id_or_flag(ast.Name(id=parameter.name))
            ids = kind == "list[int]" and parameter.name.endswith("_ids")
            if not (flag or an_id or ids):
                bad.append(f"{name}({parameter.name}: {kind})")
    assert bad == []
