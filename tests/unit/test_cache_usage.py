"""The cache's entries, least-recently-used eviction, ``cache.max_size`` and the
``bias-gate cache ls`` / ``prune`` commands, on a cache folder laid out as a run lays
it out (files of known sizes and last-use times; no model needed)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bias_gate.cache_usage import entries, evict, format_size, parse_size
from bias_gate.cli import main
from bias_gate.config.validated import load_gate_config
from bias_gate.errors import ConfigError
from bias_gate.gate.run_cache import open_run_cache

HOUR = 3600.0


def put(path: Path, size: int, used_hours_ago: float) -> Path:
    """A file of ``size`` bytes last used ``used_hours_ago`` hours ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    when = time.time() - used_hours_ago * HOUR
    os.utime(path, (when, when))
    return path


def compressed(root: Path, key: str, size: int, used_hours_ago: float) -> None:
    put(root / "compressed" / f"{key}.safetensors", size, used_hours_ago)
    put(root / "compressed" / f"{key}.json", 100, used_hours_ago)


@pytest.fixture
def cache(tmp_path) -> Path:
    """Weights of four ages, and answers and perplexity older than all of them."""
    root = tmp_path / "cache"
    put(root / "models" / "dense" / "model.safetensors", 5000, 1)
    put(root / "models" / "dense" / "config.json", 100, 1)  # the model's marker
    compressed(root, "old", 3000, 30)
    compressed(root, "middle", 2000, 20)
    put(root / "artifacts" / "q8.gguf", 1000, 10)
    put(root / "answers" / "a1" / "shard-0.jsonl", 50, 100)
    put(root / "perplexity" / "p1.json", 50, 100)
    put(root / "compressed" / ".torn.safetensors.abcd1234.tmp", 999, 0)  # being written
    return root


@pytest.mark.parametrize(
    ("text", "size"),
    [("5GB", 5 * 10**9), ("500 MB", 5 * 10**8), ("1.5GiB", 3 * 2**29), ("1000", 1000), (7, 7)],
)
def test_sizes_read_with_decimal_and_binary_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["5 gigs", "", "-1GB", "GB", True])
def test_a_bad_size_says_what_is_accepted(text):
    with pytest.raises(ValueError, match=r"not a size: .*; write a number of bytes with a unit"):
        parse_size(text)


def test_entries_have_kinds_sizes_and_last_use_oldest_first(cache):
    found = entries(cache)
    kinds = [(e.kind, e.name, e.size) for e in found]
    assert kinds == [
        ("answers", "a1", 50),
        ("perplexity", "p1.json", 50),
        ("compressed", "old", 3100),
        ("compressed", "middle", 2100),
        ("artifact", "q8.gguf", 1000),
        ("model", "dense", 5100),
    ]
    assert [e.evictable for e in found] == [False, False, True, True, True, True]


def test_eviction_removes_the_least_recently_used_weights_and_keeps_answers(cache):
    removed = evict(cache, max_size=8000)
    assert [e.name for e in removed] == ["old", "middle"]  # 11400 -> 6200 bytes
    left = {e.name for e in entries(cache)}
    assert left == {"a1", "p1.json", "q8.gguf", "dense"}
    # No half entry and no temporary of the removal is left; the torn write is untouched.
    names = sorted(p.name for p in (cache / "compressed").iterdir())
    assert names == [".torn.safetensors.abcd1234.tmp"]


def test_what_the_running_gate_used_is_never_evicted(cache):
    removed = evict(cache, max_size=0, protect_since=time.time() - 15 * HOUR)
    assert [e.name for e in removed] == ["old", "middle"]
    assert {e.name for e in entries(cache)} == {"a1", "p1.json", "q8.gguf", "dense"}
    everything = evict(cache, None, everything=True)
    assert {e.kind for e in everything} == {"artifact", "model"}
    assert {e.kind for e in entries(cache)} == {"answers", "perplexity"}


def test_a_run_cuts_its_cache_down_when_it_ends_but_not_in_an_xdist_worker(cache):
    run = open_run_cache(cache, max_size=8500)
    assert run.close(evict_weights=False) == []  # an xdist worker (pytest's workerinput)
    os.utime(cache / "compressed" / "old.json")  # this run used "old"
    # 11400 bytes: "old" was used by this run, so "middle" and the artifact go (8300).
    assert [e.name for e in run.close()] == ["middle", "q8.gguf"]
    assert open_run_cache(cache).close() == []  # no max_size: nothing evicted


def test_cache_ls_and_prune(cache, capsys):
    assert main(["cache", "ls", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"cache {cache}"
    assert out[4].split()[:3] == ["compressed", "3.10", "KB"] and out[4].endswith("yes    old")
    assert out[-1] == ("total 11.40 KB in 6 entries; weights (evictable) 11.30 KB, kept 100 B")
    assert main(["cache", "prune", "--cache-dir", str(cache), "--max-size", "7KB"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["removed compressed old (3.10 KB)", "removed compressed middle (2.10 KB)"]
    assert main(["cache", "prune", "--cache-dir", str(cache), "--max-size", "5 gigs"]) == 2
    assert capsys.readouterr().err.startswith("bias-gate: error: --max-size: not a size: ")
    assert main(["cache", "prune", "--cache-dir", str(cache), "--all"]) == 0
    assert "still above" not in capsys.readouterr().out
    assert format_size(sum(e.size for e in entries(cache))) == "100 B"


def test_cache_max_size_in_model_yaml_is_one_line_naming_file_line_and_key(tmp_path):
    config = tmp_path / "model.yaml"
    text = "compressions:\n  - {name: m, method: rtn}\ncache:\n  max_size: SIZE\n"
    config.write_text(text.replace("SIZE", "2.5GB"))
    assert load_gate_config(config).spec.cache.max_size == 2_500_000_000
    config.write_text(text.replace("SIZE", "5 gigs"))
    with pytest.raises(ConfigError) as error:
        load_gate_config(config)
    assert str(error.value) == (
        f"{config}:4: cache.max_size: not a size: '5 gigs'; write a number of bytes with a "
        "unit, e.g. 5GB, 500MB or 2GiB"
    )
