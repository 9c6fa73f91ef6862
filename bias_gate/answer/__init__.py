"""The answer engine: turn (model, BBQ items) into per-item answers.

Entry points (import them from their modules; this package imports nothing heavy):

- :func:`bias_gate.answer.engine.answer_items` -> ``dict[item key, Answer]``
- :class:`bias_gate.answer.store.AnswerStore` and
  :func:`bias_gate.answer.store.answer_store_key`

Modules: ``prompts`` (prompt text, option orders, letter tokens), ``scorer`` (batched
forward passes with prefix KV reuse, and the unbatched reference), ``modes`` (letter,
permuted, continuation, generate: the shipped
:class:`~bias_gate.answer.context.ScoringMode` classes, registered as entry points of
``bias_gate.scoring_modes``), ``generate`` (the generate mode), ``parse`` (reading
generated English answers), ``store``, ``validity``. See docs/scoring.md.
"""
