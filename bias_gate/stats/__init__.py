"""Statistics, free of BBQ: effect sizes, paired intervals and tests, multiplicity
corrections (:mod:`.core`); the score test and interval for Cohen's h on paired binary
outcomes (:mod:`.paired_score`); group-sequential boundaries with alpha spending
(:mod:`.sequential`). Imports numpy and scipy only; nothing here knows what an item is.
"""
