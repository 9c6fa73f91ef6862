"""The gate's command-line options as one typed value (no torch here)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bias_gate.cache_usage import parse_size
from bias_gate.errors import ConfigError


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``: configs ``i`` with ``i % count == index - 1``."""

    index: int
    count: int

    def takes(self, position: int) -> bool:
        """Whether the config at 0-based ``position`` in model.yaml belongs to this shard."""
        return position % self.count == self.index - 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        index_text, sep, count_text = text.partition("/")
        try:
            index, count = int(index_text), int(count_text)
        except ValueError:
            index, count = 0, 0
        if not sep or count < 1 or not 1 <= index <= count:
            raise ConfigError(
                f"{text!r} is not K/N with 1 <= K <= N (e.g. 1/4)", key="--bias-gate-shard"
            )
        return cls(index, count)


#: What ``--bias-gate-measure`` may name (the keys of model.yaml's ``measure``).
MEASURABLE = ("storage", "latency", "agreement")
#: The key under which the xdist controller hands its data directory to the workers.
WORKER_DATA_DIR = "bias_gate_data_dir"


def parse_measure(text: str) -> frozenset[str]:
    """``storage,latency,agreement`` -> the names; ``none`` -> nothing; anything else is a
    :class:`ConfigError` naming what is allowed."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    if names == {"none"}:
        return frozenset()
    unknown = sorted(names - set(MEASURABLE))
    if unknown or not names:
        raise ConfigError(
            f"{text!r} is not a comma-separated list of {', '.join(MEASURABLE)} (or none)",
            key="--bias-gate-measure",
        )
    return frozenset(names)


def parse_report(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` of ``--bias-gate-report`` -> (writer name, absolute path); the name
    must be a registered report writer (:data:`bias_gate.registry.REPORTS`)."""
    from bias_gate.registry import REPORTS

    name, sep, path = text.partition("=")
    name = name.strip()
    if not sep or not name or not path.strip():
        raise ConfigError(
            f"{text!r} is not NAME=PATH (e.g. json=out/results.json); writers: "
            f"{', '.join(REPORTS.available())}",
            key="--bias-gate-report",
        )
    if name not in REPORTS.available():
        raise ConfigError(REPORTS.unknown(name), key="--bias-gate-report")
    return name, Path(path.strip()).expanduser().absolute()


def _cache_max_size(text: str | None) -> int | None:
    """``--bias-gate-cache-max-size`` in bytes (``None`` when not given)."""
    if text is None:
        return None
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ConfigError(str(exc), key="--bias-gate-cache-max-size") from None


def _data_dir(config: Any, given: Path | None) -> Path | None:
    """The data directory: on an xdist worker, the one its controller resolved (handed
    over in ``workerinput``); else ``--bias-gate-data-dir``, else the user's default
    ``$BIAS_GATE_DATA_DIR`` (read, never written)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKER_DATA_DIR in workerinput:
        value = workerinput[WORKER_DATA_DIR]
        return Path(value) if value else None
    if given is None and os.environ.get("BIAS_GATE_DATA_DIR"):
        given = Path(os.environ["BIAS_GATE_DATA_DIR"]).expanduser().absolute()
    return given


@dataclass(frozen=True)
class GateOptions:
    """Everything the ``--bias-gate-*`` options said."""

    config_paths: tuple[Path, ...]
    thresholds: str | None = None
    mode: Literal["gate", "warn"] = "gate"
    limit: int | None = None
    looks: int | None = None
    seed: int | None = None
    device: str | None = None
    baseline: Path | None = None
    update_baseline: bool = False
    json_path: Path | None = None
    junit: Path | None = None
    markdown: Path | None = None
    html: Path | None = None
    plots: Path | None = None
    shard: Shard | None = None
    data_dir: Path | None = None
    cache_dir: Path | None = None
    cache_max_size: int | None = None
    measure: frozenset[str] | None = None
    reports: tuple[tuple[str, Path], ...] = ()

    @classmethod
    def from_pytest(cls, config: Any) -> GateOptions:
        def path(name: str) -> Path | None:
            value = config.getoption(name)
            return Path(value).expanduser().absolute() if value else None

        limit = config.getoption("bias_gate_limit")
        if limit is not None and limit < 1:
            raise ConfigError(f"must be at least 1, got {limit}", key="--bias-gate-limit")
        looks = config.getoption("bias_gate_looks")
        if looks is not None and not 1 <= looks <= 20:
            raise ConfigError(f"must be 1 to 20, got {looks}", key="--bias-gate-looks")
        shard = config.getoption("bias_gate_shard")
        data_dir = _data_dir(config, path("bias_gate_data_dir"))
        measure = config.getoption("bias_gate_measure")
        if data_dir is not None and not data_dir.is_dir():
            raise ConfigError(
                f"data directory {str(data_dir)!r} does not exist", key="--bias-gate-data-dir"
            )
        paths = tuple(Path(p).expanduser().absolute() for p in config.getoption("bias_gate"))
        baseline = path("bias_gate_baseline")
        if baseline is not None and len(paths) > 1:
            raise ConfigError(
                "one baseline file serves one model.yaml; run the configs separately",
                key="--bias-gate-baseline",
            )
        return cls(
            config_paths=paths,
            thresholds=config.getoption("bias_gate_thresholds"),
            mode=config.getoption("bias_gate_mode"),
            limit=limit,
            looks=looks,
            seed=config.getoption("bias_gate_seed"),
            device=config.getoption("bias_gate_device"),
            baseline=baseline,
            update_baseline=config.getoption("bias_gate_update_baseline"),
            json_path=path("bias_gate_json"),
            junit=path("bias_gate_junit"),
            markdown=path("bias_gate_markdown"),
            html=path("bias_gate_html"),
            plots=path("bias_gate_plots"),
            shard=Shard.parse(shard) if shard else None,
            data_dir=data_dir,
            cache_dir=path("bias_gate_cache_dir"),
            cache_max_size=_cache_max_size(config.getoption("bias_gate_cache_max_size")),
            measure=parse_measure(measure) if measure is not None else None,
            reports=tuple(parse_report(text) for text in config.getoption("bias_gate_report")),
        )
