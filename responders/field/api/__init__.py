"""The field app's API under /api/v1/field/ (session sign-in): `views` (calls, units,
residents, consents, encounters, follow-ups), `positions` (the tablet's position), `forms`
(forms on encounters), `referrals` (referrals to partner services), their own shapes in
`serializers` (those shared with the CAD API are in cases/api/serializers.py), `urls`."""
