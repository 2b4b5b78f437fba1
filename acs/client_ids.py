"""Creates keyed by the tablet's `client_id`: the UUID the field app makes once for a record and
sends with every retry, stored under a unique constraint (residents, encounters, consents,
referrals).

A retry whose first answer was lost, or one that races its first attempt, gets the record that
attempt made: never a twin, never a 500. The same client_id from another user is refused
(409 `client_id_reused`) without saying whose it is or what it made. Services call
`created_before` where their rules say a retry is recognised (before the checks the first
record would itself trip), and make the row inside `create_once`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction

from acs.errors import Conflict

M = TypeVar("M", bound=models.Model)

_REPLAYED = "_client_id_replayed"


class ClientIdReused(Conflict):
    code = "client_id_reused"

    def __init__(self) -> None:
        super().__init__("This client_id belongs to another record.")


def created_before(
    model: type[M], *, client_id: uuid.UUID | None, actor: models.Model, owner: str = "created_by"
) -> M | None:
    """The row `client_id` already made, when `actor` made it (marked as `replayed`); None
    when there is none. Another user's raises ClientIdReused. `owner` names the foreign key
    to the user who made the row."""
    if client_id is None:
        return None
    existing = model._default_manager.filter(client_id=client_id).first()
    if existing is None:
        return None
    if getattr(existing, f"{owner}_id") != actor.pk:
        raise ClientIdReused()
    setattr(existing, _REPLAYED, True)
    return existing


def create_once(
    model: type[M],
    *,
    client_id: uuid.UUID | None,
    actor: models.Model,
    create: Callable[[], M],
    owner: str = "created_by",
) -> M:
    """Run `create` (which saves a `model` row carrying `client_id`, with whatever goes with
    it) in a savepoint. When a simultaneous request with the same client_id got there first,
    the unique constraint refuses this row once that request commits: the savepoint is rolled
    back and the answer is the first request's row (another user's: ClientIdReused), read
    afresh, as READ COMMITTED lets a new statement see it."""
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        existing = created_before(model, client_id=client_id, actor=actor, owner=owner)
        if existing is None:  # another constraint refused the row: a real error
            raise
        return existing


def replayed(instance: models.Model) -> bool:
    """Whether a create answered with the row an earlier request made (HTTP 200, not 201)."""
    return getattr(instance, _REPLAYED, False)
