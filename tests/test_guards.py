"""Guards that keep the shape of the code, run with the rest of the suite (and so in CI):
mypy over aria_tui/, the import contracts of pyproject.toml, and a core that never loads Textual.
Each fails with the tool's own output."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
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


def _documented() -> list[tuple[str, str, list[str] | None]]:
    """(module, dotted name, parameters or None) of every entry of docs/CORE_API.md: a line
    `- `name(a, b=..., *, c)`` under a heading `### `aria_tui.module``."""
    heading = re.compile(r"^#+ `(aria_tui(?:\.\w+)*)`")
    entry = re.compile(r"^- `([A-Za-z_][\w.]*)(\((.*?)\))?")
    module: str | None = None
    out: list[tuple[str, str, list[str] | None]] = []
    for line in (ROOT / "docs" / "CORE_API.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            m = heading.match(line)
            module = m.group(1) if m else None
        elif module is not None and (m := entry.match(line)):
            params = None
            if m.group(2) is not None:
                params = [
                    re.split(r"[=:]", p)[0].strip()
                    for p in m.group(3).split(",")
                    if p.strip() and p.strip() not in ("*", "/", "...")
                ]
            out.append((module, m.group(1), params))
    return out


def test_core_api_names_only_what_exists() -> None:
    """docs/CORE_API.md cannot drift from the code: every module, name, attribute and parameter
    it lists exists (dataclass fields and properties included)."""
    entries = _documented()
    assert len(entries) > 40, "the reference lists too little: is its format still parsed?"
    wrong = []
    for module, dotted, params in entries:
        obj: object = importlib.import_module(module)
        for part in dotted.split("."):
            fields = {f.name for f in dataclasses.fields(obj)} if _is_dataclass_type(obj) else ()
            if part in fields:
                obj = None  # a field: nothing further to check
                break
            if not hasattr(obj, part):
                wrong.append(f"{module}: {dotted} (no {part})")
                obj = None
                break
            obj = getattr(obj, part)
        if obj is None or params is None:
            continue
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            wrong.append(f"{module}: {dotted} is not callable")
            continue
        missing = [p for p in params if p not in signature.parameters]
        if missing:
            wrong.append(f"{module}: {dotted} has no parameter {', '.join(missing)}")
    assert not wrong, "docs/CORE_API.md names what the code lacks:\n" + "\n".join(wrong)


def _is_dataclass_type(obj: object) -> bool:
    return isinstance(obj, type) and dataclasses.is_dataclass(obj)
