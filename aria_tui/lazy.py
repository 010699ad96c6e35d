"""`pl = lazy("polars")`: a module imported when one of its attributes is first read.

polars costs a seventh of a second to import (issue 17: a load's start-up budget is 0.3 s), and
loading a plain table never uses it: the scan counts the file with the C reader and the load
sends it by raw COPY. The modules that use polars inside their functions name it through this
(`import polars as pl` under TYPE_CHECKING, for mypy), so importing them costs nothing; a
module-level expression that reads `pl.X` would import it at once. importlib's module locks make
the first read safe from several threads.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)  # the next read is a plain attribute
        return value


def lazy(name: str) -> Any:
    return LazyModule(name)
