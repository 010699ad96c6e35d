"""The C extension; everything else is in pyproject.toml.

`optional=True`: a machine without a C compiler still installs aria-tui, whose vector loads then
parse with polars (the same rows, less than half as fast); `aria-tui load --json` says which parser ran.
"""

from pathlib import Path

from setuptools import Extension, setup

# one extension from several files, one per job (native_c/native.h lists them)
SOURCES = sorted(str(p) for p in Path("aria_tui/csvio/native_c").glob("*.c"))

setup(
    ext_modules=[
        Extension(
            "aria_tui.csvio._native",
            SOURCES,
            depends=[str(p) for p in Path("aria_tui/csvio/native_c").glob("*.h")],
            # hidden: the files call each other directly, and only PyInit__native is exported
            extra_compile_args=["-O2", "-fvisibility=hidden"],
            optional=True,
        )
    ]
)
