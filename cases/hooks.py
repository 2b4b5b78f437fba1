"""Webhooks from the SMS provider (Twilio or a compatible one), mounted at /hooks/sms/.

- `POST /hooks/sms/status`: delivery receipts for the texts we sent (the StatusCallback each
  send names). 204; an id we do not know is ignored.
- `POST /hooks/sms/inbound`: texts to our number (the number's messaging webhook). Answered
  with empty TwiML: nothing is texted back from here.

Both are machine callbacks: no session, no CSRF token; each request must carry a valid
`X-Twilio-Signature` (HMAC-SHA1 with SMS_AUTH_TOKEN over the URL and the form), else 403 and
nothing changes. The URL signed is the public one the provider was given: ACS_BASE_URL plus
the path (and query, if any), not the host this process sees behind the proxy
(docs/operations.md, "SMS").
The logic is in cases/services/inbound.py; no phone number or message text is logged here.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases import channels
from cases.services import inbound

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MESSAGE_SID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def _signed_form(request: HttpRequest) -> tuple[dict[str, str] | None, HttpResponse | None]:
    """The form, when the provider signed it; else the answer to give."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.API_MAX_BODY_BYTES:
        return None, HttpResponse(status=413)
    params = request.POST.dict()
    url = settings.ACS_BASE_URL + request.get_full_path()
    given = request.headers.get("X-Twilio-Signature", "")
    if not channels.signature_valid(settings.SMS_AUTH_TOKEN, url, params, given):
        logger.warning("sms hook %s: missing or invalid signature", request.path)
        return None, HttpResponse(status=403)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not MESSAGE_SID.match(sid):
        return None, HttpResponse(status=400)
    params["MessageSid"] = sid
    return params, None


@csrf_exempt
@require_POST
@never_cache
def sms_status(request: HttpRequest) -> HttpResponse:
    params, refused = _signed_form(request)
    if refused is not None:
        return refused
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    row = inbound.sms_status_record(
        message_sid=params["MessageSid"], status=status, error_code=params.get("ErrorCode", "")
    )
    if row is None:
        logger.info("sms status for a message not (yet) recorded %s kept", params["MessageSid"])
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@never_cache
def sms_inbound(request: HttpRequest) -> HttpResponse:
    params, refused = _signed_form(request)
    if refused is not None:
        return refused
    done = inbound.sms_inbound_handle(
        message_sid=params["MessageSid"],
        from_number=params.get("From", ""),
        body=params.get("Body", ""),
    )
    logger.info("sms inbound %s: %s", params["MessageSid"], done)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
