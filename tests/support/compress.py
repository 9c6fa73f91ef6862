"""What the compression unit tests share: measurement settings that skip the slow
figures, a small calibration, and a compression config resolved as model.yaml's is
(the ``context`` fixture is in tests/unit/compress/conftest.py)."""

from __future__ import annotations

from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import CompressionMethod, resolve_method
from bias_gate.config.schema import CompressionSpec

#: No size or latency figures: the tests check weights, not measurements.
QUICK = MeasureSettings(sizes=False, latency=False)
#: Wanda's calibration, small enough for a tiny model in a unit test.
CALIBRATION = {"samples": 4, "seq_len": 64, "batch_size": 2}


def spec(method: str, **options) -> CompressionMethod:
    """A compression config resolved as a loaded model.yaml resolves it."""
    return resolve_method(CompressionSpec(name=f"{method}-test", method=method, options=options))
