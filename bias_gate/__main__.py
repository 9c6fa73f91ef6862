"""``python -m bias_gate`` behaves exactly like the ``bias-gate`` command."""

from bias_gate.cli import main

raise SystemExit(main())
