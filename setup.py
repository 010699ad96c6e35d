"""The C extension; everything else is in pyproject.toml.

`optional=True`: a machine without a C compiler still installs aria-tui, whose vector loads then
parse with polars (the same rows, less than half as fast); `aria-tui load --json` says which parser ran.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "aria_tui.csvio._native",
            ["aria_tui/csvio/_native.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
