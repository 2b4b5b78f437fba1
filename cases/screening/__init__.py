"""Versioned forms (screens, assessments, safety plans) on encounters: issue #22.

`questionnaire` (items as FHIR Questionnaire items, conditions, required, the FHIR exchange),
`scoring` (scoring rules by name), `services` (writes), `selectors` (reads scoped to the user),
`shipped` (the definitions the department starts with), `admin`, `exports` (CSV columns and the
billing evidence file). The field app's endpoints for forms are its own
(responders/field/api/forms.py). docs/screening.md.
"""
