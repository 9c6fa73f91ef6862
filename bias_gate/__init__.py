"""bias-gate: a pytest plugin that stops a compressed LLM from shipping when
compression made it more biased on BBQ.

The flow runs one way::

    config -> data + model -> compress -> answer -> metrics/stats -> verdict -> reports
"""

__version__ = "1.0.0"
