"""`Idempotency-Key` for partner writes: a retry of the same request returns the first
response instead of doing the write again.

The key is the client's (1 to 255 visible ASCII characters, KEY_PATTERN; a UUID is best),
scoped to the acting user (one token or partner user). The first response with a status below 500 is
stored with a digest of the request; the same key with a different request is refused (422),
so a client bug cannot silently return another request's result. Two concurrent requests with
one key are serialized by a transaction-scoped advisory lock: the second waits, then replays.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from rest_framework.response import Response

from acs.errors import DomainError
from resources.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# Visible ASCII only, as the schema says (partner_views): beyond ASCII a header's bytes depend on
# the client's encoding, and blanks at its ends are dropped on the way, so such a key would not
# reliably come back the same.
KEY_PATTERN = r"^[!-~]{1,255}$"


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


def idempotent(method):
    """Decorate an APIView method (post/put) so that `Idempotency-Key` makes it idempotent."""

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
            if stored is not None:
                if stored.request_digest != digest:
                    raise IdempotencyKeyReused(
                        f"This {HEADER} was used for a different request.",
                        fields={HEADER: ["Already used for another request."]},
                    )
                response = Response(stored.response_body, status=stored.response_status)
                response[REPLAY_HEADER] = "true"
                return response
            try:
                response = method(view, request, *args, **kwargs)
            except Exception as exc:
                response = view.handle_exception(exc)  # re-raises what is not a 4xx
            if response.status_code < 500:
                body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                IdempotencyKey.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    request_digest=digest,
                    response_status=response.status_code,
                    response_body=body,
                )
            return response

    return wrapper
