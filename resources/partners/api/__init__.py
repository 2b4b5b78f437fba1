"""The partner API (/api/v1/referrals, /api/v1/capacity; docs/api.md)."""
