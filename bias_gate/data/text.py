"""Text corpora for perplexity and calibration, by name.

Names: ``wikitext2:valid`` / ``wikitext2:test`` (the tokenized WikiText-2 release: from
``<data_dir>/wikitext-2/<split>.txt`` when a data directory is given, else a download
cached and verified by SHA-256), a path
to a UTF-8 text file (a relative path is taken against ``base_dir``), or
``hf:<dataset id>[:<split>[:<column>]]`` (needs ``pip install pytest-bias-gate[hf-datasets]``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bias_gate.cache import cache_root
from bias_gate.data.download import fetch_cached
from bias_gate.data.pins import WIKITEXT2_COMMIT, WIKITEXT2_PINS
from bias_gate.errors import DataError
from bias_gate.fingerprint import file_digest, fingerprint
from bias_gate.utf8 import read_utf8

#: The files at the pinned commit (:mod:`bias_gate.data.pins`), never a branch.
WIKITEXT2_URL = (
    f"https://raw.githubusercontent.com/pytorch/examples/{WIKITEXT2_COMMIT}/"
    "word_language_model/data/wikitext-2/{split}.txt"
)
#: Corpus names -> WikiText-2 split (the tokenized release of the PyTorch example).
CORPORA: dict[str, str] = {"wikitext2:test": "test", "wikitext2:valid": "valid"}
MIN_CORPUS_CHARS = 1000


def _validate_text(url: str) -> Callable[[bytes], None]:
    """Rejects a body that is not UTF-8 or is too short to be the corpus."""

    def validate(body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"download is not UTF-8 text ({exc.reason})", file=url) from None
        if len(text.strip()) < MIN_CORPUS_CHARS:
            raise DataError(f"download has under {MIN_CORPUS_CHARS} characters", file=url)

    return validate


def corpus_path(
    name: str, *, url_template: str = WIKITEXT2_URL, cache_dir: Path | None = None
) -> Path:
    """The local file of a named corpus, downloaded once into ``cache_dir`` (default
    ``cache_root()/data/wikitext-2``) and verified by SHA-256 on every reuse."""
    split = CORPORA[name]
    folder = cache_dir if cache_dir is not None else cache_root() / "data" / "wikitext-2"
    url = url_template.format(split=split)
    return fetch_cached(
        url, folder / f"{split}.txt", _validate_text(url), pin=WIKITEXT2_PINS[split]
    )


#: What a corpus name may be (for error messages).
_ALLOWED = f"give {', '.join(CORPORA)}, a text file or hf:<dataset>[:<split>[:<column>]]"


def corpus_file(
    name: str,
    data_dir: Path | None = None,
    base_dir: Path | None = None,
    *,
    url_template: str = WIKITEXT2_URL,
    cache_dir: Path | None = None,
) -> Path:
    """The local file holding corpus ``name`` (not for ``hf:`` names); a
    :class:`DataError` naming the fix when there is none."""
    if name in CORPORA:
        if data_dir is None:
            return corpus_path(name, url_template=url_template, cache_dir=cache_dir)
        path = data_dir / "wikitext-2" / f"{CORPORA[name]}.txt"
        if not path.is_file():
            raise DataError(
                f"corpus {name} is not in the data directory; it must hold "
                f"wikitext-2/{CORPORA[name]}.txt (give none to download)",
                file=path,
                key="corpus",
            )
    elif name.startswith("wikitext2:"):
        raise DataError(f"unknown corpus {name!r}; {_ALLOWED}", key="corpus")
    else:
        path = Path(name).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    if not path.is_file():
        raise DataError(f"corpus file does not exist; {_ALLOWED}", file=path, key="corpus")
    return path


def load_corpus(
    name: str,
    data_dir: Path | None = None,
    base_dir: Path | None = None,
    *,
    url_template: str = WIKITEXT2_URL,
    cache_dir: Path | None = None,
) -> str:
    """The whole text of corpus ``name`` as one string (see the module docstring)."""
    if name.startswith("hf:"):
        return _load_hf(name)
    path = corpus_file(name, data_dir, base_dir, url_template=url_template, cache_dir=cache_dir)
    return read_utf8(path, DataError)


def corpus_fingerprint(
    name: str, data_dir: Path | None = None, base_dir: Path | None = None
) -> str:
    """What identifies the corpus text: the SHA-256 of its file, or the ``hf:`` name."""
    if name.startswith("hf:"):
        return fingerprint("hf", name)
    return file_digest(corpus_file(name, data_dir, base_dir))


def _load_hf(name: str) -> str:
    parts = name[3:].split(":")
    dataset, split, column = parts[0], (parts[1:2] or ["train"])[0], (parts[2:3] or ["text"])[0]
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"corpus {name!r} needs the datasets library: pip install pytest-bias-gate[hf-datasets]"
        ) from None
    rows = datasets.load_dataset(dataset, split=split)
    return "\n".join(str(text) for text in rows[column])
