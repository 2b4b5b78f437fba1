"""The CAD API (/api/v1/cad/), a surface of its own over the cases core: its views, its input
shapes and its URLconf, which acs/api_urls.py includes by dotted path; nothing imports this
package (pyproject.toml, "cad-surface-imported-by-none"; docs/architecture.md)."""
