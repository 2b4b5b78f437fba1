"""The public transparency pages (/transparency/: the page, its definitions, CSV, JSON and data
dictionary), a surface over the transparency core (cases/transparency/: definitions, selectors,
the cached query build in query.py). acs/urls.py includes its URLconf by dotted path; nothing
imports this package (pyproject.toml, "public-surface-imported-by-none"; docs/architecture.md)."""
