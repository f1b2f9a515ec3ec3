"""The layer order of the README is checked, not asserted: import-linter's layers contract
(pyproject.toml) holds for the code as it is, and fails, naming the import, when a lower layer
imports a higher one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = ("core", "store", "access", "geo", "ingest", "hotspots", "registers", "report",
          "present", "views")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True,
                          text=True, timeout=300)


def copy_of_the_code(tmp_path: Path) -> Path:
    """The packages and pyproject.toml, copied so a test can break them."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in (*LAYERS, "cli"):
        if (ROOT / package).is_dir():
            shutil.copytree(ROOT / package, copy / package,
                            ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_code_keeps_the_layer_order() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 1 kept, 0 broken." in run.stdout


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path: Path) -> None:
    copy = copy_of_the_code(tmp_path)
    store_db = copy / "store" / "db.py"
    store_db.write_text(store_db.read_text() + "\nimport report.spreadsheet  # noqa: E402, F401\n")
    run = lint_imports(copy)
    assert run.returncode == 1
    assert "Contracts: 0 kept, 1 broken." in run.stdout
    assert "store is not allowed to import report" in run.stdout
    assert "store.db -> report.spreadsheet" in run.stdout
