"""The import-linter contracts in pyproject.toml (checked by ``lint-imports``) cover all of kiosk.

A module outside every layer is checked by no layer rule at all: kiosk.config, kiosk.paths,
kiosk.private_files and kiosk.__main__ were, until a new module left out would go unnoticed.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import kiosk

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _contracts() -> list[dict[str, Any]]:
    with PYPROJECT.open("rb") as file:
        contracts: list[dict[str, Any]] = tomllib.load(file)["tool"]["importlinter"]["contracts"]
    return contracts


def test_every_module_of_kiosk_is_in_a_layer() -> None:
    (layers,) = [c["layers"] for c in _contracts() if c["type"] == "layers"]
    layered = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    modules = {f"kiosk.{module.name}" for module in pkgutil.iter_modules(kiosk.__path__)}
    assert modules, "no modules found in kiosk"
    assert modules - layered == set(), "in no layer of the layers contract"
    assert layered - modules == set(), "layers naming modules that do not exist"
