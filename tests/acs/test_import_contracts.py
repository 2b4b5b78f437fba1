"""The workforce core's import contract lists responders' modules one by one (the field app,
responders.field, is a surface and is left out): a module added to responders without being
added there would escape the contract, so this test fails until it is (pyproject.toml,
[tool.importlinter], "workforce-imports-only-acs"; docs/architecture.md)."""

import pkgutil
import tomllib
from pathlib import Path

import responders

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _contract(contract_id: str) -> dict:
    config = tomllib.loads(PYPROJECT.read_text())
    (contract,) = (c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == contract_id)
    return contract


def test_the_workforce_contract_covers_every_module_of_responders_but_the_field_app():
    modules = {f"responders.{m.name}" for m in pkgutil.iter_modules(responders.__path__)}
    assert "responders.field" in modules
    listed = set(_contract("workforce-imports-only-acs")["source_modules"])
    assert listed == modules - {"responders.field"}


def test_the_field_app_is_a_surface_that_nothing_imports():
    assert "responders.field" in _contract("surfaces-independent")["modules"]
    assert "responders.field" in _contract("core-imports-no-surface")["forbidden_modules"]
    protected = _contract("field-surface-imported-by-none")
    assert protected["protected_modules"] == ["responders.field"]
    assert protected["allowed_importers"] == ["responders.field"]


def test_each_surface_package_is_imported_by_none_and_the_core_imports_no_surface():
    """The CAD API, the partners' portal and API, and the public transparency pages are one
    package each that only itself imports (#19); every surface is out of the core's reach."""
    protected = {
        "cad-surface-imported-by-none": "cases.cad",
        "partner-surface-imported-by-none": "resources.partners",
        "public-surface-imported-by-none": "cases.transparency.public",
    }
    for contract_id, package in protected.items():
        contract = _contract(contract_id)
        assert contract["protected_modules"] == [package]
        assert contract["allowed_importers"] == [package]
    surfaces = set(_contract("surfaces-independent")["modules"])
    assert set(protected.values()) <= surfaces
    desk = _contract("desk-imported-by-none")
    assert {"cases.admin", "resources.admin"} <= set(desk["protected_modules"])
    assert desk["allowed_importers"] == desk["protected_modules"]
    assert surfaces | set(desk["protected_modules"]) <= set(
        _contract("core-imports-no-surface")["forbidden_modules"]
    )
