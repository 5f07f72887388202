"""Build the optional C kernel; everything else is configured in pyproject.toml.

The kernel is optional: if it cannot be compiled, pretense-dev falls back to the
pure-Python reference implementation (slower, same results) and `pretense-dev
doctor` says so.
"""

from __future__ import annotations

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pretense_dev.mutation._kernel",
            sources=["pretense_dev/mutation/_kernel.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
