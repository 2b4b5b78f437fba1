"""The partners' surface over the directory and referrals core: the partner portal at /partners/
(`views.py`, `forms.py`, `urls.py`) and the partner API under /api/v1/ (`api/`: the referral
feed and its actions, capacity, `Idempotency-Key`). acs/urls.py and acs/api_urls.py include
their URLconfs by dotted path; nothing imports this package (pyproject.toml,
"partner-surface-imported-by-none"; docs/architecture.md)."""
