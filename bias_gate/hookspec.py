"""The hooks bias-gate calls, for a ``conftest.py`` or a plugin to implement.

Published through ``pytest_addhooks`` (as pytest-xdist publishes its own), so pytest
checks an implementation's argument names against these specifications. Implement a
hook by defining a function of the same name in a ``conftest.py``; take only the
arguments you need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bias_gate.results import GateResults


@pytest.hookspec()
def pytest_bias_gate_results(config: pytest.Config, results: GateResults) -> None:
    """Receive one compression config's results as soon as they are computed, before
    its items report, and apply your own policy to them.

    ``results`` is a :class:`~bias_gate.results.GateResults` holding the one config
    (``results.configs[0]``, its items in ``results.configs[0].items``), the dense
    baseline (``results.dense``) and the run info (``results.run``). Set an item's
    ``verdict`` (``"pass"``, ``"fail"`` or ``"warn"``) to adjust it, or to veto a pass;
    set the config's ``perplexity_verdict`` likewise. The pytest items report the
    verdicts as the hook left them, and the JSON and every report carry them; bias-gate
    puts a reason in front of the item's ``reasons`` (``perplexity_reasons``) naming the
    change, so no changed verdict goes unrecorded. Add your own reason after it.

    Called in the process that computes the config (an xdist worker under ``-n``), once
    per config and process; every implementation is called, in pytest's usual order.
    """
