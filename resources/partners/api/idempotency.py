"""`Idempotency-Key` for partner writes: a retry of the same request answers as the first
did instead of doing the write again.

The key is the client's (1 to 255 visible ASCII characters, KEY_PATTERN; a UUID is best),
scoped to the acting user (one token or partner user). The first response with a status below
500 is recorded with a digest of the request; the same key with a different request is refused
(422), so a client bug cannot silently return another request's result. Two concurrent requests with
one key are serialized by a transaction-scoped advisory lock: the second waits, then replays.

What is recorded is what a retry needs, not the response: the status, the public id of the
record a success described, and the error of a refusal (its code, message and fields, which
hold no record). A replay of a success renders that record again through the view's own
`replay` function, i.e. through the same selectors and serializers as the live request: the
caller's right to see it is checked now, the resident's fields are those the consent allows
now (a revocation since the first request counts), and a disclosure is audited as a live one
is. So a replay returns the same status and ids as the first response, with the record as it
is now. A record is kept for IDEMPOTENCY_TTL; an older key is a new key (its record is
replaced), and `idempotency_keys_purge` (beat, hourly, and `manage.py retention`) deletes
expired records.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from rest_framework.response import Response

from acs.errors import DomainError
from resources.models import IdempotencyKey
from resources.services.idempotency import idempotency_key_expired

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# Visible ASCII only, as the schema says (views.py): beyond ASCII a header's bytes depend on
# the client's encoding, and blanks at its ends are dropped on the way, so such a key would not
# reliably come back the same.
KEY_PATTERN = r"^[!-~]{1,255}$"

# result_id(data) -> the public id the success response `data` describes;
# replay(view, request, result_id, **kwargs) -> the response data, rendered now for the caller.
ResultId = Callable[[Any], Any]
Replay = Callable[..., Any]


class IdempotencyKeyInvalid(DomainError):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    http_status = 422


def _digest(request, kwargs) -> str:
    try:
        data = request.data
    except Exception:  # unparseable body: the view will refuse it; key on the raw method/path
        data = None
    canonical = json.dumps(
        [request.method, request.path, kwargs, data], sort_keys=True, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(*, result_id: ResultId, replay: Replay):
    """Decorate an APIView method (post/put) so that `Idempotency-Key` makes it idempotent.

    `result_id` picks the id of the written record out of a success's response data;
    `replay(view, request, result_id, **kwargs)` renders that record again for the caller,
    through the live endpoint's selectors and serializers (access, consent and audit)."""

    def decorate(method):
        @wraps(method)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return method(view, request, *args, **kwargs)
            if not re.fullmatch(KEY_PATTERN, key):
                raise IdempotencyKeyInvalid(
                    f"{HEADER} must be 1 to 255 visible ASCII characters (a UUID).",
                    fields={HEADER: ["Invalid."]},
                )
            digest = _digest(request, kwargs)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        [f"idem:{request.user.pk}:{key}"],
                    )
                stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
                if stored is not None and idempotency_key_expired(stored):
                    stored.delete()  # an expired key is a new key
                    stored = None
                if stored is not None:
                    if stored.request_digest != digest:
                        raise IdempotencyKeyReused(
                            f"This {HEADER} was used for a different request.",
                            fields={HEADER: ["Already used for another request."]},
                        )
                    if stored.error is not None:
                        data = stored.error
                    else:
                        data = replay(view, request, stored.result_id, *args, **kwargs)
                    response = Response(data, status=stored.response_status)
                    response[REPLAY_HEADER] = "true"
                    return response
                try:
                    response = method(view, request, *args, **kwargs)
                except Exception as exc:
                    response = view.handle_exception(exc)  # re-raises what is not a 4xx
                if response.status_code < 500:
                    refused = response.status_code >= 400
                    IdempotencyKey.objects.create(
                        user=request.user,
                        key=key,
                        method=request.method,
                        path=request.path[:500],
                        request_digest=digest,
                        response_status=response.status_code,
                        result_id=None if refused else result_id(response.data),
                        error=(
                            json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                            if refused
                            else None
                        ),
                    )
                return response

        return wrapper

    return decorate
