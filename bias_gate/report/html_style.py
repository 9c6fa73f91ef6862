"""The HTML report's inline CSS (one stylesheet, no scripts)."""

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1250px; color: #1a1a1a; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #555; }
.banner { padding: 0.8em 1em; border-radius: 6px; font-weight: 600; margin: 1em 0; }
.banner.fail { background: #fdecea; border: 1px solid #c62828; }
.banner.warn { background: #fff4e5; border: 1px solid #ef6c00; }
.banner.pass { background: #edf7ed; border: 1px solid #2e7d32; }
.banner.incomplete { background: #fff4e5; border: 2px solid #ef6c00; font-size: 1.2em; }
.incomplete-note { color: #8a3b00; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; max-width: 100%; }
td.value { overflow-wrap: anywhere; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.reasons td { color: #444; font-size: 0.9em; border-top: none; padding-left: 1.5em; }
.wide { overflow-x: auto; max-width: 100%; }
td.pass { background: #edf7ed; } td.fail { background: #fdecea; } td.warn { background: #fff4e5; }
ul.reasons span.fail { color: #c62828; font-weight: 600; }
ul.reasons span.warn { color: #ef6c00; font-weight: 600; }
.paradox { background: #fdecea; border-left: 4px solid #c62828; padding: 0.5em 1em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
details { margin: 0.4em 0; border: 1px solid #ddd; border-radius: 4px; padding: 0.3em 0.8em; }
details:target { border-color: #c62828; }
summary { cursor: pointer; font-weight: 600; overflow-wrap: anywhere; }
table.flips td { white-space: nowrap; }
table.flips td.value { min-width: 12em; white-space: normal; }
table.flips ul { margin: 0.3em 0; padding-left: 1.2em; }
/* The verdict matrix: the config column stays put while the bias cells scroll. */
#verdict-matrix .config { position: sticky; left: 0; z-index: 1; background: #f4f4f4;
                          text-align: left; }
@media (max-width: 640px) {  /* a phone: each config is a card of labelled cells */
  #verdict-matrix, #verdict-matrix tbody { display: block; }
  #verdict-matrix tr { display: flex; flex-wrap: wrap; margin-bottom: 0.6em;
                       border: 1px solid #ccc; }
  #verdict-matrix tr:first-child { display: none; }
  #verdict-matrix .config { position: static; flex: 1 1 100%; }
  #verdict-matrix td { flex: 1 1 8em; border: none; border-top: 1px solid #eee;
                       text-align: left; }
  #verdict-matrix td[data-label]::before { content: attr(data-label) ": ";
                                           font-weight: 600; display: block;
                                           font-size: 0.85em; color: #555; }
}
@media (max-width: 640px) {  /* a phone: each flipped item stacks, its answers labelled */
  table.flips, table.flips tbody, table.flips tr, table.flips td { display: block; }
  table.flips tr:first-child { display: none; }
  table.flips tr { border-top: 2px solid #999; }
  table.flips td { border: none; white-space: normal; text-align: left; }
  table.flips td.value { min-width: 0; }
  table.flips td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
"""
