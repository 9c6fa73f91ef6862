"""Where BBQ and WikiText come from: local folders, the mirror, and real downloads from
a local HTTP server (no network)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bias_gate.config.schema import DataSpec
from bias_gate.data.bbq import parse_mapping
from bias_gate.data.download import ENV_DATA_DIR, MANIFEST_NAME
from bias_gate.data.items import ALL_CATEGORIES
from bias_gate.data.loader import load_items
from bias_gate.data.sources import (
    DirectorySource,
    OfficialSource,
    hf_row_to_official,
    resolve_source,
)
from bias_gate.data.text import load_corpus
from bias_gate.errors import DataError


class Server:
    """Serves files of ``root`` on 127.0.0.1 and counts requests per path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                super().__init__(*args, directory=str(owner.root), **kwargs)

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root)
    yield srv
    srv.close()


@pytest.fixture
def no_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)


def religion_bytes(bbq_dir: Path) -> bytes:
    return (bbq_dir / "Religion.jsonl").read_bytes()


def test_directory_source_and_missing_file(bbq_dir: Path, tmp_path: Path) -> None:
    source = DirectorySource(bbq_dir)
    assert len(source.load("Religion")) == 1200
    assert set(source.categories()) == {
        "Age",
        "Disability_status",
        "Nationality",
        "Physical_appearance",
        "Religion",
        "Sexual_orientation",
    }
    with pytest.raises(DataError) as missing:
        source.load("SES")
    message = str(missing.value)
    assert message.startswith(f"{bbq_dir / 'SES.jsonl'}: BBQ file for SES not found;")
    assert "\n" not in message and "official" in message
    with pytest.raises(DataError) as unknown:
        source.load("Height")
    assert "unknown category 'Height'; allowed: Age," in str(unknown.value)
    with pytest.raises(DataError) as no_dir:
        DirectorySource(tmp_path / "nowhere").load("Age")
    assert "BBQ source directory not found" in str(no_dir.value)


def test_every_official_category_is_accepted_by_name(tmp_path: Path, no_mirror: None) -> None:
    source = OfficialSource(base_url="http://127.0.0.1:9/data", cache_dir=tmp_path)
    for category in ALL_CATEGORIES:
        assert source.url(category).endswith(f"/data/{category}.jsonl")
    assert len(ALL_CATEGORIES) == 11


def test_mirror_serves_official_without_download(
    bbq_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = OfficialSource(
        base_url="http://127.0.0.1:9/unreachable", cache_dir=tmp_path / "c", data_dir=bbq_dir.parent
    )
    assert len(source.load("Age")) == 3680
    assert not (tmp_path / "c").exists()
    with pytest.raises(DataError) as missing:
        source.load("Race_x_SES")
    assert "--bias-gate-data-dir" in str(missing.value)
    assert "Race_x_SES.jsonl" in str(missing.value)


def test_the_data_layer_takes_the_data_dir_as_an_argument_only(
    bbq_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """$BIAS_GATE_DATA_DIR is a default the entry points read; the data layer ignores it."""
    monkeypatch.setenv(ENV_DATA_DIR, str(bbq_dir.parent))
    source = resolve_source("official")
    assert isinstance(source, OfficialSource) and source.data_dir is None
    offline = OfficialSource(base_url="http://127.0.0.1:9/unreachable", cache_dir=tmp_path)
    with pytest.raises(DataError, match="could not download"):
        offline.load("Age")
    given = resolve_source("official", data_dir=bbq_dir.parent)
    assert isinstance(given, OfficialSource) and given.data_dir == bbq_dir.parent


def test_download_once_then_reuse_cache(
    server: Server, bbq_dir: Path, tmp_path: Path, no_mirror: None
) -> None:
    body = religion_bytes(bbq_dir)
    (server.root / "Religion.jsonl").write_bytes(body)
    cache = tmp_path / "cache"
    source = OfficialSource(base_url=server.url, cache_dir=cache)
    assert len(source.load("Religion")) == 1200
    assert server.requests == ["/Religion.jsonl"]
    manifest = json.loads((cache / MANIFEST_NAME).read_text())
    assert manifest["Religion.jsonl"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["Religion.jsonl"]["size"] == len(body)
    # second call: served from the cache, no request
    assert len(source.load("Religion")) == 1200
    assert server.requests == ["/Religion.jsonl"]


def test_changed_or_truncated_cache_is_downloaded_again(
    server: Server, bbq_dir: Path, tmp_path: Path, no_mirror: None
) -> None:
    body = religion_bytes(bbq_dir)
    (server.root / "Religion.jsonl").write_bytes(body)
    cache = tmp_path / "cache"
    source = OfficialSource(base_url=server.url, cache_dir=cache)
    source.load("Religion")
    cached = cache / "Religion.jsonl"
    cached.write_bytes(body[: len(body) // 2])  # truncated on disk
    assert len(source.load("Religion")) == 1200
    assert len(server.requests) == 2
    cached.write_bytes(body.replace(b'"Muslim"', b'"Muslin"', 1))  # same size, changed
    assert len(source.load("Religion")) == 1200
    assert len(server.requests) == 3
    assert cached.read_bytes() == body


def test_corrupted_download_is_rejected_and_not_cached(
    server: Server, bbq_dir: Path, tmp_path: Path, no_mirror: None
) -> None:
    body = religion_bytes(bbq_dir)
    (server.root / "Religion.jsonl").write_bytes(body[: len(body) // 2 + 17])  # cut mid-line
    cache = tmp_path / "cache"
    source = OfficialSource(base_url=server.url, cache_dir=cache)
    with pytest.raises(DataError) as bad:
        source.load("Religion")
    assert "not valid JSON" in str(bad.value) and server.url in str(bad.value)
    assert len(server.requests) == 2  # one retry, then give up
    assert not (cache / "Religion.jsonl").exists()
    # a file whose lines parse but are not BBQ items is rejected too
    (server.root / "Religion.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(DataError, match="missing field"):
        source.load("Religion")
    assert not (cache / "Religion.jsonl").exists()


def test_download_failure_names_the_fix(tmp_path: Path, no_mirror: None) -> None:
    source = OfficialSource(base_url="http://127.0.0.1:9/data", cache_dir=tmp_path)
    with pytest.raises(DataError) as failed:
        source.load("Age")
    assert "could not download http://127.0.0.1:9/data/Age.jsonl" in str(failed.value)
    assert ENV_DATA_DIR in str(failed.value)


def test_load_items_reads_official_through_the_mirror(bbq_dir: Path) -> None:
    spec = DataSpec(source="official", categories=["Religion", "Age"], items_per_category=40)
    items = load_items(spec, data_dir=bbq_dir.parent)
    assert items.counts == {"Religion": 40, "Age": 40}
    assert items.available == {"Religion": 1200, "Age": 3680}
    assert items.excluded == {"Religion": 0, "Age": 0}
    assert [i.category for i in items.items] == ["Religion"] * 40 + ["Age"] * 40
    relative = load_items(spec.model_copy(update={"source": "bbq"}), base_dir=bbq_dir.parent)
    assert relative.fingerprint == items.fingerprint


def test_hf_source_needs_the_optional_package() -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("datasets is installed; the not-installed message cannot be shown")
    with pytest.raises(DataError) as missing:
        resolve_source("hf:heegyu/bbq").load("Age")
    assert "pip install pytest-bias-gate[hf-datasets]" in str(missing.value)
    with pytest.raises(DataError, match="dataset id"):
        resolve_source("hf:")


def test_hf_rows_map_to_official_fields(bbq_dir: Path) -> None:
    raw = json.loads((bbq_dir / "Age.jsonl").read_text().splitlines()[1536])
    hub_row = dict(raw)
    hub_row["answer_label"] = hub_row.pop("label")
    hub_row["question_index"] = int(hub_row["question_index"])
    hub_row["answer_info"] = {k: tuple(v) for k, v in raw["answer_info"].items()}
    mapped = parse_mapping(hf_row_to_official(hub_row), "hf:x", 1)
    official = parse_mapping(raw, "Age.jsonl", 1537)
    assert mapped == official
    assert official.biased_index == 1


def test_wikitext_from_mirror_path_and_download(
    bbq_dir: Path,
    wikitext_dir: Path,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mirror = bbq_dir.parent
    valid = load_corpus("wikitext2:valid", data_dir=mirror)
    assert valid == (wikitext_dir / "valid.txt").read_text(encoding="utf-8")
    assert load_corpus(str(wikitext_dir / "test.txt")).count(" ") > 200_000
    assert load_corpus("test.txt", base_dir=wikitext_dir) == load_corpus(
        "wikitext2:test", data_dir=mirror
    )
    with pytest.raises(DataError, match="corpus file does not exist"):
        load_corpus(str(tmp_path / "missing.txt"))
    with pytest.raises(DataError, match="not in the data directory"):
        load_corpus("wikitext2:valid", data_dir=tmp_path)
    (server.root / "test.txt").write_bytes((wikitext_dir / "test.txt").read_bytes())
    template = server.url + "/{split}.txt"
    cache = tmp_path / "wt"
    text = load_corpus("wikitext2:test", url_template=template, cache_dir=cache)
    assert text == (wikitext_dir / "test.txt").read_text(encoding="utf-8")
    load_corpus("wikitext2:test", url_template=template, cache_dir=cache)
    assert server.requests == ["/test.txt"]
    (server.root / "valid.txt").write_text("too short")
    with pytest.raises(DataError, match="under 1000 characters"):
        load_corpus("wikitext2:valid", url_template=template, cache_dir=cache)


def test_jsonl_that_is_not_utf8_is_one_line_at_its_line(bbq_dir: Path, tmp_path: Path) -> None:
    body = religion_bytes(bbq_dir).splitlines(keepends=True)
    body[2] = body[2].replace(b"Muslim", b"Musl\xefm", 1)
    (tmp_path / "Religion.jsonl").write_bytes(b"".join(body))
    with pytest.raises(DataError) as bad:
        DirectorySource(tmp_path).load("Religion")
    assert str(bad.value).startswith(f"{tmp_path / 'Religion.jsonl'}:3: not UTF-8 text: byte 0xef")


@pytest.mark.parametrize(
    ("edit", "part"),
    [
        (lambda line: "[" * 100_000 + "]" * 100_000, "not a BBQ line (nested too deeply)"),
        (
            lambda line: line.replace('"example_id": ', '"example_id": ' + "9" * 5000 + ', "x": '),
            "not a BBQ line (Exceeds the limit (4300 digits)",
        ),
        (lambda line: line.replace('"label": ', '"label": 1e400, "y": '), "malformed BBQ item"),
    ],
)
def test_a_hostile_jsonl_line_is_one_line(bbq_dir: Path, tmp_path: Path, edit, part) -> None:
    first = religion_bytes(bbq_dir).decode().splitlines()[0]
    (tmp_path / "Religion.jsonl").write_text(first + "\n" + edit(first) + "\n")
    with pytest.raises(DataError) as bad:
        DirectorySource(tmp_path).load("Religion")
    assert str(bad.value).startswith(f"{tmp_path / 'Religion.jsonl'}:2: {part}"), bad.value
