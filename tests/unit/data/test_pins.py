"""Downloads pinned by commit and digest (issue 26, finding 11): the pins are those of the
official files, and a download or a cached copy that differs is refused, naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_gate.data.download import MANIFEST_NAME, fetch_cached
from bias_gate.data.items import ALL_CATEGORIES
from bias_gate.data.pins import BBQ_COMMIT, BBQ_PINS, WIKITEXT2_COMMIT, WIKITEXT2_PINS, Pin
from bias_gate.data.sources import OFFICIAL_BASE_URL, OfficialSource
from bias_gate.data.text import WIKITEXT2_URL, load_corpus
from bias_gate.errors import DataError
from tests.unit.data.test_sources import Server, no_mirror, server  # noqa: F401


def test_urls_name_a_commit_not_a_branch():
    assert OFFICIAL_BASE_URL.endswith(f"/nyu-mll/BBQ/{BBQ_COMMIT}/data")
    assert f"/pytorch/examples/{WIKITEXT2_COMMIT}/" in WIKITEXT2_URL
    assert "/main/" not in OFFICIAL_BASE_URL + WIKITEXT2_URL
    assert set(BBQ_PINS) == set(ALL_CATEGORIES)


def test_pins_are_the_official_files(bbq_dir: Path, wikitext_dir: Path):
    present = [c for c in ALL_CATEGORIES if (bbq_dir / f"{c}.jsonl").is_file()]
    assert len(present) >= 6
    for category in present:
        body = (bbq_dir / f"{category}.jsonl").read_bytes()
        assert BBQ_PINS[category].kind == "sha256"
        assert BBQ_PINS[category].matches(body), category
    for split, pin in WIKITEXT2_PINS.items():
        assert pin.matches((wikitext_dir / f"{split}.txt").read_bytes()), split


def test_a_git_blob_pin_is_what_git_names_the_content(bbq_dir: Path):
    # `git hash-object Age.jsonl`, and the id of data/Age.jsonl in the pinned commit's tree
    age = (bbq_dir / "Age.jsonl").read_bytes()
    assert Pin("git-blob", "5c5e7586163b869fe029e77e63716f2026e4ae08").matches(age)
    assert not Pin("git-blob", "5c5e7586163b869fe029e77e63716f2026e4ae08").matches(age[:-1])


def test_a_download_that_differs_from_its_pin_is_refused(
    server: Server,  # noqa: F811
    bbq_dir: Path,
    tmp_path: Path,
    no_mirror: None,  # noqa: F811
) -> None:
    body = (bbq_dir / "Religion.jsonl").read_bytes()
    # Valid BBQ, one word changed: every line still parses; only the pin can tell.
    (server.root / "Religion.jsonl").write_bytes(body.replace(b"Muslim", b"Hindu", 1))
    cache = tmp_path / "cache"
    with pytest.raises(DataError) as refused:
        OfficialSource(base_url=server.url, cache_dir=cache).load("Religion")
    message = str(refused.value)
    assert message.startswith(f"{server.url}/Religion.jsonl: download does not match the ")
    assert BBQ_PINS["Religion"].hexdigest in message and "\n" not in message
    assert not (cache / "Religion.jsonl").exists()


def test_a_cached_copy_trusted_on_first_use_is_checked_against_the_pin(
    server: Server,  # noqa: F811
    wikitext_dir: Path,
    tmp_path: Path,
    no_mirror: None,  # noqa: F811
) -> None:
    good = (wikitext_dir / "test.txt").read_bytes()
    template = server.url + "/{split}.txt"
    # What the unpinned code cached and recorded: a tampered file, its own digest.
    tampered = good.replace(b" the ", b" a ", 1)
    (server.root / "test.txt").write_bytes(tampered)
    cache = tmp_path / "wt"
    with pytest.raises(DataError, match="does not match the pinned SHA-256"):
        load_corpus("wikitext2:test", url_template=template, cache_dir=cache)
    fetch_cached(
        template.format(split="test"), cache / "test.txt", lambda body: None
    )  # unpinned: trusted on first use
    assert json.loads((cache / MANIFEST_NAME).read_text())["test.txt"]["size"] == len(tampered)
    (server.root / "test.txt").write_bytes(good)
    assert load_corpus("wikitext2:test", url_template=template, cache_dir=cache) == good.decode()
    assert (cache / "test.txt").read_bytes() == good
