"""The partner contract tests' shorthands: the referral statuses, and a POST as a partner sends
it."""

import json

from resources.models import ReferralStatus

S = ReferralStatus


def post(client, path, body=None, **headers):
    if body is None:  # a POST without a body, as `curl -X POST` sends it
        return client.generic("POST", path, **headers)
    return client.post(path, json.dumps(body), content_type="application/json", **headers)
