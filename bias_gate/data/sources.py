"""Where the BBQ JSONL comes from: a local folder, the official repository, or the Hub.

``source`` strings (``data.source`` in model.yaml, ``--source`` on the command line):

* a directory laid out like the official repository's ``data/`` folder
  (``<dir>/<Category>.jsonl``);
* ``"official"``: the files of github.com/nyu-mll/BBQ, downloaded once into
  ``cache_root()/data/bbq`` with a SHA-256 manifest (see :mod:`bias_gate.data.download`);
  given a data directory (``data_dir``: ``--bias-gate-data-dir`` or
  ``$BIAS_GATE_DATA_DIR``, passed in by the caller), read from ``<data_dir>/bbq`` instead;
* ``"hf:<dataset id>"``: a Hugging Face dataset through the optional ``datasets``
  package (``pip install pytest-bias-gate[hf-datasets]``), its columns mapped to the official
  fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bias_gate.cache import cache_root
from bias_gate.data.bbq import parse_lines, parse_mapping
from bias_gate.data.download import ENV_DATA_DIR, fetch_cached
from bias_gate.data.items import ALL_CATEGORIES, BBQItem
from bias_gate.data.pins import BBQ_COMMIT, BBQ_PINS
from bias_gate.errors import DataError
from bias_gate.utf8 import read_utf8

#: The official files at the pinned commit (:mod:`bias_gate.data.pins`), never a branch.
OFFICIAL_BASE_URL = f"https://raw.githubusercontent.com/nyu-mll/BBQ/{BBQ_COMMIT}/data"
HF_PREFIX = "hf:"


def check_category(category: str, allowed: tuple[str, ...] = ALL_CATEGORIES) -> str:
    """``category`` if it is one of ``allowed`` (the benchmark's categories; default
    the official BBQ ones), else a one-line DataError."""
    if category not in allowed:
        raise DataError(
            f"unknown category {category!r}; allowed: {', '.join(allowed)}",
            key="category",
        )
    return category


class BBQSource(Protocol):
    """A provider of official BBQ items by category."""

    @property
    def description(self) -> str:
        """What the source is, for reports and error messages."""
        ...

    def categories(self) -> tuple[str, ...]:
        """The categories this source can provide."""
        ...

    def load(self, category: str) -> list[BBQItem]:
        """Every item of ``category``, in the source's order."""
        ...


def _read_jsonl(path: Path, category: str, fix: str) -> list[BBQItem]:
    if not path.is_file():
        raise DataError(f"BBQ file for {category} not found; {fix}", file=path)
    text = read_utf8(path, DataError)
    return parse_lines(text.splitlines(), str(path), category)


@dataclass(frozen=True)
class DirectorySource:
    """A folder laid out like the official ``data/``: ``<root>/<Category>.jsonl``.
    ``allowed``: the categories of the benchmark the folder holds (default BBQ's)."""

    root: Path
    fix: str = "put the official <Category>.jsonl files there, or use source 'official'"
    allowed: tuple[str, ...] = ALL_CATEGORIES

    @property
    def description(self) -> str:
        return str(self.root)

    def path(self, category: str) -> Path:
        return self.root / f"{check_category(category, self.allowed)}.jsonl"

    def categories(self) -> tuple[str, ...]:
        return tuple(c for c in self.allowed if (self.root / f"{c}.jsonl").is_file())

    def load(self, category: str) -> list[BBQItem]:
        if not self.root.is_dir():
            raise DataError(
                "BBQ source directory not found; give a folder with <Category>.jsonl "
                "files, 'official' or 'hf:<dataset id>'",
                file=self.root,
            )
        return _read_jsonl(self.path(category), category, self.fix)


def _jsonl_validator(url: str, category: str) -> Callable[[bytes], None]:
    """Rejects a body that is not UTF-8 or has a line that is not a valid BBQ item."""

    def validate(body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"download is not UTF-8 text ({exc.reason})", file=url) from None
        if not text.strip():
            raise DataError("download is empty", file=url)
        parse_lines(text.splitlines(), url, category)

    return validate


@dataclass(frozen=True)
class OfficialSource:
    """The nyu-mll/BBQ files: from ``<data_dir>/bbq`` when a data directory is given,
    else downloaded once from ``base_url`` into ``cache_dir`` (default
    ``cache_root()/data/bbq``) and verified against the manifest on every reuse."""

    base_url: str = OFFICIAL_BASE_URL
    cache_dir: Path | None = None
    data_dir: Path | None = None

    @property
    def description(self) -> str:
        mirror = self.data_dir
        return f"official ({mirror / 'bbq'})" if mirror else f"official ({self.base_url})"

    def categories(self) -> tuple[str, ...]:
        """Every category; with a local mirror, those the mirror holds (a partial
        mirror exports what it has)."""
        if self.data_dir is not None:
            folder = self.data_dir / "bbq"
            return tuple(c for c in ALL_CATEGORIES if (folder / f"{c}.jsonl").is_file())
        return ALL_CATEGORIES

    def url(self, category: str) -> str:
        return f"{self.base_url.rstrip('/')}/{check_category(category)}.jsonl"

    def folder(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else cache_root() / "data" / "bbq"

    def load(self, category: str) -> list[BBQItem]:
        check_category(category)
        if self.data_dir is not None:
            return _read_jsonl(
                self.data_dir / "bbq" / f"{category}.jsonl",
                category,
                f"the local data mirror ({ENV_DATA_DIR}; in a pytest run also "
                "--bias-gate-data-dir) must hold bbq/<Category>.jsonl; add the file, or "
                "give no mirror to download it",
            )
        url = self.url(category)
        path = fetch_cached(
            url,
            self.folder() / f"{category}.jsonl",
            _jsonl_validator(url, category),
            pin=BBQ_PINS.get(category),
        )
        return parse_lines(read_utf8(path, DataError).splitlines(), str(path), category)


#: Hub column names that differ from the official JSONL fields.
HF_COLUMN_ALIASES: dict[str, str] = {"answer_label": "label"}


def hf_row_to_official(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Hub dataset row -> an object with the official JSONL fields: aliased columns
    renamed, ``question_index`` as text, ``answer_info`` entries as lists, and
    ``additional_metadata.stereotyped_groups`` always present (a list)."""
    out = {HF_COLUMN_ALIASES.get(k, k): v for k, v in row.items()}
    if "question_index" in out:
        out["question_index"] = str(out["question_index"])
    info = out.get("answer_info")
    if isinstance(info, Mapping):
        out["answer_info"] = {k: list(v) if v is not None else ["", ""] for k, v in info.items()}
    meta = dict(out.get("additional_metadata") or {})
    meta["stereotyped_groups"] = list(meta.get("stereotyped_groups") or [])
    out["additional_metadata"] = meta
    return out


def _import_datasets() -> Any:
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        raise DataError(
            "source 'hf:...' needs the optional 'datasets' package: "
            "pip install pytest-bias-gate[hf-datasets]",
            key="data.source",
        ) from None
    return datasets


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face dataset with the official BBQ fields. A config named like the
    category is used when the dataset has one; otherwise all rows of the default
    config whose ``category`` column equals the category."""

    dataset_id: str

    @property
    def description(self) -> str:
        return f"{HF_PREFIX}{self.dataset_id}"

    def categories(self) -> tuple[str, ...]:
        return ALL_CATEGORIES

    def _rows(self, category: str) -> Iterable[Mapping[str, Any]]:
        datasets = _import_datasets()
        try:
            configs = datasets.get_dataset_config_names(self.dataset_id)
            config = category if category in configs else None
            loaded = datasets.load_dataset(self.dataset_id, config)
        except Exception as exc:  # the Hub client raises many types
            raise DataError(
                f"could not load Hugging Face dataset {self.dataset_id!r}: {exc}",
                key="data.source",
            ) from None
        for split in sorted(loaded):
            for row in loaded[split]:
                if row.get("category", category) == category:
                    yield row

    def load(self, category: str) -> list[BBQItem]:
        check_category(category)
        origin = f"{self.description}[{category}]"
        items = [
            parse_mapping(hf_row_to_official(row), origin, n)
            for n, row in enumerate(self._rows(category), start=1)
        ]
        if not items:
            raise DataError(f"no {category} rows in {self.description}", key="data.source")
        return items


def resolve_source(
    source: str, base_dir: Path | None = None, data_dir: Path | None = None
) -> BBQSource:
    """The source a ``data.source`` string names; a relative directory is taken
    relative to ``base_dir`` (the folder of model.yaml; default: the working dir).
    ``data_dir``: the local mirror ``official`` reads from (``None``: download)."""
    if source == "official":
        return OfficialSource(data_dir=data_dir)
    if source.startswith(HF_PREFIX):
        dataset_id = source[len(HF_PREFIX) :]
        if not dataset_id:
            raise DataError("give a dataset id after 'hf:'", key="data.source")
        return HubSource(dataset_id)
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return DirectorySource(path)
