"""The answer engine: turn (model, BBQ items) into per-item answers.

Entry points (import them from their modules; this package imports nothing heavy):

- :func:`bias_gate.answer.engine.answer_items` -> ``dict[item key, Answer]``
- :class:`bias_gate.answer.store.AnswerStore` and
  :func:`bias_gate.answer.store.answer_store_key`

Modules: ``prompts`` (prompt text, option orders, letter tokens), ``scorer`` (batched
forward passes with prefix KV reuse; its plain data in ``variants``, its cache layers in
``cache_layers``, reading its rows in ``reading``, the unbatched ``reference``),
``context`` and ``modes`` (letter, permuted, continuation, generate: the shipped
:class:`~bias_gate.answer.context.ScoringMode` classes, registered as entry points of
``bias_gate.scoring_modes``), ``generate`` (the generate mode) and ``seeds`` (several
seeds as one answer), ``store``. Reading a generated answer's text is the benchmark's
(:mod:`bias_gate.data.parse`). See docs/scoring.md.
"""
