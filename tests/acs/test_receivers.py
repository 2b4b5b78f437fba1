"""Receivers are connected by each app's AppConfig.ready (its modules' `connect_receivers()`),
never as a side effect of importing a module (#19, docs/architecture.md "Feature packages")."""

import ast
from pathlib import Path

from allauth.account import signals as allauth_signals
from allauth.mfa.signals import authenticator_added
from celery import signals as celery_signals
from django.contrib.auth.signals import user_logged_in
from django.db.models import signals as model_signals

ROOT = Path(__file__).resolve().parents[2]
APPS = ("acs", "cases", "resources", "responders")
CONNECTING = {"receiver", "connect", "connect_receivers", "_connect_receivers"}
# The Celery app's own process hooks (worker ready, beat start, shutdown) are declared with the
# app, which acs/__init__.py imports first in every process, as Celery's Django layout has it:
# beat may send its signal before Django's apps are ready.
CELERY_APP = ROOT / "acs" / "celery.py"


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return getattr(node, "id", "")


def _connects_on_import(path: Path) -> list[str]:
    """Module-level statements that connect a receiver: a decorator (@receiver,
    @signal.connect) on a top-level function, or a top-level call."""
    hits = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorators = node.decorator_list
        elif isinstance(node, ast.Expr):
            decorators = [node.value]
        else:
            continue
        hits += [
            f"{path.relative_to(ROOT)}:{node.lineno}" for d in decorators if _name(d) in CONNECTING
        ]
    return hits


def test_no_module_connects_a_receiver_when_imported():
    modules = [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path != CELERY_APP
    ]
    assert modules
    assert [hit for path in modules for hit in _connects_on_import(path)] == []


def _uids(signal) -> set[str]:
    return {lookup_key[0] for lookup_key, *_ in signal.receivers}


def test_the_apps_connect_their_receivers_when_ready():
    assert "acs.sessions.start_idle_clock" in _uids(user_logged_in)
    assert "acs.mfa.factor_set_up_is_factor_passed" in _uids(authenticator_added)
    assert "responders.sso.idp_mfa_counts" in _uids(allauth_signals.user_logged_in)
    assert "acs.metrics.task_success" in _uids(celery_signals.task_success)
    assert "acs.metrics.task_failure" in _uids(celery_signals.task_failure)
    assert "acs.metrics.task_retry" in _uids(celery_signals.task_retry)
    assert "acs.metrics.task_revoked" in _uids(celery_signals.task_revoked)
    assert "acs.request_id.publish" in _uids(celery_signals.before_task_publish)
    assert "acs.request_id.prerun" in _uids(celery_signals.task_prerun)
    assert "acs.request_id.postrun" in _uids(celery_signals.task_postrun)
    assert "opening_intervals_schedule_moved" in _uids(model_signals.pre_save)
    assert {"opening_intervals_schedule_saved", "opening_intervals_sal_saved"} <= _uids(
        model_signals.post_save
    )
    assert "opening_intervals_schedule_deleted" in _uids(model_signals.post_delete)
