"""The pytest side of the gate: options, nodes, the run, result collection."""
