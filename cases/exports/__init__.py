"""Exports of case data as background jobs: residents and encounters CSV with redaction
levels, and the HUD HMIS CSV (FY2024) for the Continuum of Care. See docs/exports.md."""
