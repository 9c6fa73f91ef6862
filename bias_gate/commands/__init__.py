"""Subcommands of the bias-gate command line, one module each."""
