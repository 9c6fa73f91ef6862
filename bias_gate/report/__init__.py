"""Reports of a gate run, one module each, all reading :class:`bias_gate.results.GateResults`.

- :mod:`.junit`: standalone JUnit XML (``write_junit``)
- :mod:`.markdown`: markdown summary and the GitHub step summary
- :mod:`.annotations`: GitHub error/warning annotations for failing configs
- :mod:`.plots`: PNG plots (``write_plots``)
- :mod:`.html`: a self-contained HTML report (``write_html``)
- :mod:`.merge`: join shards of one run (``merge_results``)

docs/reports.md says what each output is for.
"""
