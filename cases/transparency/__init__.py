"""The public transparency dashboard (/transparency/) and its staff version in the admin.

- `definitions`: every published figure, in words (docs/metrics.md says the same);
- `cases.services.transparency`: the rollup refresh (writes, a few SQL statements);
- `selectors`: the figures of a month range and district, suppressed for the public;
- `suppression`: the small-cell rule; `charts`: server-made SVG; `views`, `admin`: HTTP.
"""
