"""Text corpora for calibration and perplexity, by name.

Names: ``wikitext2:valid`` / ``wikitext2:test`` (the tokenized WikiText-2 release: from
``<data_dir>/wikitext-2/<split>.txt`` when a data dir is given, else through
:func:`bias_gate.data.text.corpus_path`, i.e. the ``$BIAS_GATE_DATA_DIR`` mirror or a
verified download), a path to a text file (relative paths against ``base_dir``), or
``hf:<dataset id>[:<split>[:<column>]]`` (needs ``pip install bias-gate[hf-datasets]``).
"""

from __future__ import annotations

from pathlib import Path

from bias_gate.data import text
from bias_gate.errors import DataError
from bias_gate.fingerprint import file_digest, fingerprint


def corpus_path(name: str, data_dir: Path | None = None, base_dir: Path | None = None) -> Path:
    """The local file holding corpus ``name`` (not for ``hf:`` names).

    Raises :class:`DataError` when it cannot be found, naming the fix.
    """
    if name in text.CORPORA:
        if data_dir is None:
            return text.corpus_path(name)
        path = data_dir / "wikitext-2" / f"{text.CORPORA[name]}.txt"
    elif name.startswith("wikitext2:"):
        raise DataError(
            f"unknown corpus {name!r}; allowed: {', '.join(text.CORPORA)}, a text file, "
            "or hf:<dataset>"
        )
    else:
        path = Path(name).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    if not path.is_file():
        raise DataError(f"corpus file {str(path)!r} does not exist", key="corpus")
    return path


def read_corpus(name: str, data_dir: Path | None = None, base_dir: Path | None = None) -> str:
    """The whole text of corpus ``name`` as one string (UTF-8)."""
    if name.startswith("hf:"):
        return _read_hf(name)
    return corpus_path(name, data_dir, base_dir).read_text(encoding="utf-8")


def corpus_fingerprint(
    name: str, data_dir: Path | None = None, base_dir: Path | None = None
) -> str:
    """What identifies the corpus text: the SHA-256 of its file, or the ``hf:`` name."""
    if name.startswith("hf:"):
        return fingerprint("hf", name)
    return file_digest(corpus_path(name, data_dir, base_dir))


def _read_hf(name: str) -> str:
    parts = name[3:].split(":")
    dataset, split, column = parts[0], (parts[1:2] or ["train"])[0], (parts[2:3] or ["text"])[0]
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"corpus {name!r} needs the datasets library: pip install bias-gate[hf-datasets]"
        ) from None
    rows = datasets.load_dataset(dataset, split=split)
    return "\n".join(str(text) for text in rows[column])
