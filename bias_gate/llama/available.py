"""Whether llama-cpp-python is installed, and the one usage line when it is not."""

from __future__ import annotations

import importlib.util
from typing import Any

from bias_gate.errors import BiasGateError

INSTALL = "pip install 'pytest-bias-gate[llama]'"


def llama_cpp_installed() -> bool:
    """True when ``llama_cpp`` can be imported (without importing it)."""
    return importlib.util.find_spec("llama_cpp") is not None


def require_llama_cpp(what: str, key: str | None = None) -> Any:
    """The ``llama_cpp`` module; a :class:`BiasGateError` naming ``what`` needs it and
    how to install it when it is missing."""
    try:
        import llama_cpp
    except ImportError:
        raise BiasGateError(
            f"{what} needs llama-cpp-python (llama.cpp): {INSTALL}", key=key
        ) from None
    return llama_cpp


def llama_cpp_version() -> str | None:
    """The installed llama-cpp-python version, or ``None``."""
    from importlib import metadata

    try:
        return metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        return None
