"""Guards that keep the shape of the code, run with the rest of the suite (and so in CI):
mypy over aria_tui/, the import contracts of pyproject.toml, and a core that never loads Textual.
Each fails with the tool's own output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_mypy_is_clean() -> None:
    """[tool.mypy] in pyproject.toml: strict over aria_tui/ (but bare generics and Any returns)."""
    done = _run("-m", "mypy")
    assert done.returncode == 0, f"mypy found problems:\n{done.stdout}{done.stderr}"


def test_import_contracts_are_kept() -> None:
    """[tool.importlinter] in pyproject.toml: only ui imports Textual, the core never imports
    ui or cli, csvio imports nothing above it, validate does not import load."""
    done = _run(
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())",
        "--no-cache",
    )
    assert done.returncode == 0, f"an import contract is broken:\n{done.stdout}{done.stderr}"


def test_the_core_never_loads_textual() -> None:
    """Every module but the wizard's, imported in a fresh interpreter, leaves Textual unloaded:
    the subcommands and the library work on a machine without a usable terminal."""
    code = (
        "import importlib, pkgutil, sys, aria_tui\n"
        "names = [m.name for m in pkgutil.walk_packages(aria_tui.__path__, 'aria_tui.')\n"
        "         if not m.name.startswith(('aria_tui.ui', 'aria_tui.__main__'))]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(k for k in sys.modules if k == 'textual' or k.startswith('textual.'))\n"
        "print(len(names), 'modules')\n"
        "assert not loaded, f'the core loaded {loaded[:5]}'\n"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stdout + done.stderr
    assert int(done.stdout.split()[0]) > 50  # the walk found the package
