"""The model-loading progress bar, as live progress instead of captured output.

transformers de-quantizes a GGUF file (the first load of a ``package`` or ``gguf`` model;
later loads read bias-gate's safetensors copy) under a tqdm bar that no setting turns
off. Inside a pytest item that bar is captured and shows up only in a failure's output.
:func:`gguf_tensor_progress` replaces it, while the model loads, with a silent loop that
tells ``report(done, total)`` after each tensor (the gate's live progress line).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

#: The transformers module whose ``tqdm`` draws the de-quantizing bar.
GGUF_MODULE = "transformers.modeling_gguf_pytorch_utils"


@contextmanager
def gguf_tensor_progress(report: Callable[[int, int], None]) -> Iterator[None]:
    """While the context runs, transformers' GGUF de-quantizing loop reports to ``report``
    instead of drawing a bar. Without that module (another transformers) nothing changes."""
    try:
        module = importlib.import_module(GGUF_MODULE)
    except ImportError:  # pragma: no cover - transformers without GGUF support
        yield
        return
    original = getattr(module, "tqdm", None)
    if original is None:  # pragma: no cover - a transformers that draws no bar there
        yield
        return

    def reporting(iterable: Iterable[Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
        items = list(iterable)
        for index, item in enumerate(items, 1):
            yield item
            report(index, len(items))

    setattr(module, "tqdm", reporting)  # noqa: B010 (the module has no typed tqdm)
    try:
        yield
    finally:
        setattr(module, "tqdm", original)  # noqa: B010
