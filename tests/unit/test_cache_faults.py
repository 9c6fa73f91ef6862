"""Storage that fails cleanly (issue 26, findings 3, 4 and 6): every temporary name the
cache writes is cleared once stale; a write that fails (a file-size limit, a path under a
file, safetensors' own error) is one warning and the run goes on with nothing left
behind; a cache that cannot be written at all is a temporary stand-in or, when nothing
could work, one usage line before anything loads."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bias_gate.cache import (
    CacheWarning,
    atomic_write_text,
    fill_folder_once,
    remove_stale_temporaries,
    write_or_warn,
)
from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.config.schema import CompressionSpec
from bias_gate.errors import ConfigError
from bias_gate.gate.run_cache import open_run_cache
from bias_gate.models.gguf_load import _dequantized_copy, _keep_metadata

HOUR_AGO = time.time() - 2 * 3600


def aged(path: Path, text: str | None = "x") -> Path:
    """``path`` (written with ``text`` unless None) with an mtime two hours ago."""
    if text is not None:
        path.write_text(text)
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """``ulimit -f`` for this process (Python ignores SIGXFSZ: writes fail with EFBIG)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_every_stale_temporary_name_is_removed_and_nothing_else(tmp_path):
    aged(tmp_path / ".abc.safetensors.k2j4_x9q.tmp")  # atomic_replace's file
    aged(tmp_path / ".tmpYmhsii")  # what safetensors writes, then renames
    staging = tmp_path / ".0f3c.e1xq7b2a.tmp"  # a dequantized model's staging folder
    staging.mkdir()
    (staging / "model.safetensors").write_bytes(b"x" * 100)
    aged(staging, None)
    young = tmp_path / ".def.json.abc12345.tmp"
    young.write_text("being written by another process")
    kept = [tmp_path / "abc.safetensors", tmp_path / ".hidden", tmp_path / ".tmpshort"]
    for path in kept:
        aged(path)
    assert remove_stale_temporaries(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [young.name, *(p.name for p in kept)]
    )


def test_a_write_clears_what_a_killed_writer_of_the_same_file_left(tmp_path):
    left = aged(tmp_path / ".r.json.q8x1abcd.tmp")  # kill -9 during --bias-gate-json r.json
    other = aged(tmp_path / ".notes.md.q8x1abcd.tmp")  # not ours: an output folder is shared
    atomic_write_text(tmp_path / "r.json", "{}")
    assert not left.exists() and other.exists()


def test_a_failed_cache_write_is_one_warning_and_a_wrong_one_still_raises(tmp_path):
    class SafetensorError(Exception):  # the shape of safetensors' own: not an OSError
        pass

    def fails(exc: Exception):
        def write() -> None:
            raise exc

        return write

    with pytest.warns(CacheWarning) as caught:
        assert not write_or_warn("weights", tmp_path, fails(SafetensorError("I/O error\nx")))
    message = str(caught[0].message)
    assert "\n" not in message and f"could not cache weights in {tmp_path} (I/O error)" in message
    with pytest.raises(KeyError):
        write_or_warn("weights", tmp_path, fails(KeyError("a bug is not a full disk")))


def test_compressed_weights_past_a_file_size_limit_warn_and_leave_nothing(
    tiny_llama, wikitext_dir, tmp_path
):
    context = CompressionContext(
        tokenizer=tiny_llama.tokenizer, config_dir=tmp_path, data_dir=wikitext_dir.parent
    )
    method = resolve_method(
        CompressionSpec(name="q", method="rtn", options={"bits": 8})
    )  # about 80 KB of packed int8 codes: magnitude and random store nothing
    quick = MeasureSettings(sizes=False, latency=False)
    with pytest.warns(CacheWarning, match="File too large"), file_size_limit(64 * 1024):
        _, report = compress_model(tiny_llama, method, context, tmp_path / "c", quick)
    assert report.cache_key is not None and not report.from_cache
    assert list((tmp_path / "c").iterdir()) == []  # no temporary, no half entry


def test_a_dequantized_copy_or_its_metadata_that_cannot_be_saved_leaves_nothing(
    tiny_llama, tmp_path
):
    scratch = tmp_path / "scratch"
    with pytest.warns(CacheWarning, match="dequantized model"), file_size_limit(256 * 1024):
        assert _dequantized_copy(tiny_llama.model, tiny_llama.tokenizer, tmp_path) is None
    assert list(scratch.iterdir()) == []
    folder = _dequantized_copy(tiny_llama.model, tiny_llama.tokenizer, tmp_path)  # it can
    assert folder is not None and (folder / "config.json").is_file()
    assert [p.name for p in scratch.iterdir()] == [folder.name]

    # What is kept of it: every file but the weights, whole or not at all.
    meta = tmp_path / "models" / "key"
    with pytest.warns(CacheWarning, match="config and tokenizer"), file_size_limit(1024):
        _keep_metadata(folder, meta)
    assert list(meta.parent.iterdir()) == []
    _keep_metadata(folder, meta)
    kept = sorted(p.name for p in meta.iterdir())
    assert "config.json" in kept and "tokenizer_config.json" in kept
    assert kept == sorted(p.name for p in folder.iterdir() if p.suffix != ".safetensors")


def test_a_cache_under_a_file_is_a_warning_and_a_temporary_stand_in(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    cache = open_run_cache(afile / "cache", "--bias-gate-cache-dir")
    try:
        assert cache.temporary and cache.path.is_dir()
        assert cache.warning is not None and "\n" not in cache.warning
        assert cache.warning.startswith(
            f"bias-gate: warning: cache folder {afile / 'cache'} cannot be written (Not a "
            "directory); this run caches nothing there and uses the temporary folder"
        )
    finally:
        cache.close()
    assert not cache.path.exists() and afile.read_text() == "not a folder"


def test_when_nothing_could_be_written_it_is_one_usage_line(tmp_path, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(afile / "tmp"))
    with pytest.raises(ConfigError) as info:
        open_run_cache(afile / "cache", "--bias-gate-cache-dir")
    assert str(info.value) == (
        f"--bias-gate-cache-dir: cache folder '{afile / 'cache'}' cannot be written (Not a "
        "directory) and no temporary folder could be made (Not a directory); give a "
        "writable cache folder"
    )


def test_a_folder_filled_once_is_whole_or_absent_and_another_s_copy_is_kept(tmp_path):
    target = tmp_path / "entry"

    def broken(staging: Path) -> None:
        (staging / "half").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fill_folder_once(target, broken)
    assert list(tmp_path.iterdir()) == []  # no target, no staging folder
    fill_folder_once(target, lambda staging: (staging / "mine").write_text("1"))
    fill_folder_once(target, lambda staging: (staging / "theirs").write_text("2"))
    assert [p.name for p in target.iterdir()] == ["mine"]  # the first one is kept
    assert list(tmp_path.iterdir()) == [target]
