"""Arguments more than one subcommand takes, defined once."""

from __future__ import annotations

import argparse


def add_source(parser: argparse.ArgumentParser) -> None:
    """``--source``: where the BBQ items come from (bias_gate.data.sources)."""
    parser.add_argument(
        "--source",
        required=True,
        help="the BBQ items: a folder of official <Category>.jsonl files, 'official' (read "
        "from $BIAS_GATE_DATA_DIR/bbq when that is set, else downloaded) or 'hf:<dataset id>'",
    )
