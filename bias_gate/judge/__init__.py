"""From paired answers to verdicts: which items each look uses (:mod:`.plan`), the look
by look judging of one config (:mod:`.looks`), the decision rule (:mod:`.decision`), the
verdict with its reasons (:mod:`.verdict`), the item results with the one multiplicity
adjustment (:mod:`.item_results`), the dense model's validity (:mod:`.validity`),
threshold profiles (:mod:`.thresholds`), and the rule's power and operating
characteristic by simulation (:mod:`.power`, :mod:`.simulate`).
"""
