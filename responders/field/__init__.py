"""The responders' field app, one surface in one package (#19): its pages under /field/
(`views`, `screening_views`, `urls`), the reads its screens make (`selectors`), and its API
under /api/v1/field/ (`api/`: calls, units, residents, consents, encounters, forms, referrals).

It imports the domain core (cases, resources, responders' models and services); nothing imports
it: acs/urls.py and acs/api_urls.py include its URLconfs by dotted path. The templates are in
templates/responders/field/ and the script in static/field/ (the top-level layout is fixed).
docs/architecture.md, "Layers and allowed imports", says why it lives here.
"""
