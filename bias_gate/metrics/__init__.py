"""BBQ metrics of answers: one model's accuracy, official bias scores and SRS
(:mod:`.bbq`); the gated metric a bias verdict is taken on (:mod:`.gated`); the flipped
items between dense and compressed (:mod:`.flips`); and the paired comparison of one
category (:mod:`.comparison`). Reads answers and items; decides nothing.

(``bias_gate.metrics`` is also the entry point group of gated metrics; the group name is
a string, this package is where the built-in ones live.)
"""
