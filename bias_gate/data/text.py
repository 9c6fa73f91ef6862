"""Text corpora for perplexity and calibration: WikiText-2 by name, or a text file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bias_gate.cache import cache_root
from bias_gate.data.download import ENV_DATA_DIR, fetch_cached, mirror_dir
from bias_gate.errors import DataError

WIKITEXT2_URL = (
    "https://raw.githubusercontent.com/pytorch/examples/main/"
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
    """The local file of a named corpus: ``$BIAS_GATE_DATA_DIR/wikitext-2/<split>.txt``
    when that variable is set, else downloaded once into ``cache_dir`` (default
    ``cache_root()/data/wikitext-2``) and verified by SHA-256 on every reuse."""
    split = CORPORA[name]
    mirror = mirror_dir()
    if mirror is not None:
        path = mirror / "wikitext-2" / f"{split}.txt"
        if not path.is_file():
            raise DataError(
                f"corpus {name} not found in the mirror named by {ENV_DATA_DIR}; "
                f"it must hold wikitext-2/{split}.txt (unset {ENV_DATA_DIR} to download)",
                file=path,
            )
        return path
    folder = cache_dir if cache_dir is not None else cache_root() / "data" / "wikitext-2"
    url = url_template.format(split=split)
    return fetch_cached(url, folder / f"{split}.txt", _validate_text(url))


def load_corpus(
    name_or_path: str,
    *,
    base_dir: Path | None = None,
    url_template: str = WIKITEXT2_URL,
    cache_dir: Path | None = None,
) -> str:
    """The text of ``"wikitext2:test"``, ``"wikitext2:valid"`` or a UTF-8 text file (a
    relative path is taken relative to ``base_dir``, default the working directory)."""
    if name_or_path in CORPORA:
        path = corpus_path(name_or_path, url_template=url_template, cache_dir=cache_dir)
    else:
        path = Path(name_or_path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise DataError(
                f"corpus not found; give {' or '.join(CORPORA)} or a text file path",
                file=path,
                key="perplexity.corpus",
            )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"corpus is not UTF-8 text ({exc.reason})", file=path) from None
