"""Registries by name, all of one shape: entry points, a protocol checked on
registration, and an error that lists what is available.

A :class:`Registry` holds one kind of extension (benchmarks, gated metrics, scoring
modes, report writers, compressors). Built-in and third-party extensions register the
same way: as entry points in the registry's group (``name = "module:attribute"``),
loaded only when asked for by name. Tests and scripts may also call
:meth:`Registry.register` directly. Whatever is registered (a class or an object) is
checked against the kind's protocol when it is registered or loaded: every attribute and
method the protocol declares must be there, so a wrong extension is refused in one line
when the run starts, not with a traceback half-way through it.

Only names are listed without importing anything: :meth:`Registry.available` reads the
entry point metadata, so configs are validated without loading torch.

The registries, one per kind (see docs/extending.md):

===================  ==========================  =========================================
registry             entry point group           protocol
===================  ==========================  =========================================
:data:`BENCHMARKS`   ``bias_gate.benchmarks``    :class:`bias_gate.data.benchmarks.Benchmark`
:data:`METRICS`      ``bias_gate.metrics``       :class:`bias_gate.metrics.gated.GatedMetric`
:data:`SCORING_MODES` ``bias_gate.scoring_modes`` :class:`bias_gate.answer.context.ScoringMode`
:data:`REPORTS`      ``bias_gate.reports``       :class:`bias_gate.report.writers.ReportWriter`
:data:`COMPRESSORS`  ``bias_gate.compressors``   :class:`bias_gate.compress.base.Compressor`
===================  ==========================  =========================================

This module imports nothing heavy: listing names reads entry point metadata only, so
model.yaml's names are checked without torch. Compressors carry no ``name`` (a method is
known by the name it is registered under), so theirs is the protocol check alone.

``Registry`` is generic in what it holds: each registry is declared with its protocol's
class type (``Registry[type[GatedMetric]]``), so ``METRICS.get(name)`` is typed for a
type checker. The protocols are imported for annotations only (``TYPE_CHECKING``); at run
time the protocol is resolved from its ``"module:Class"`` reference when an extension is
checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module, metadata
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bias_gate.errors import BiasGateError

if TYPE_CHECKING:
    from bias_gate.answer.context import ScoringMode
    from bias_gate.compress.base import Compressor
    from bias_gate.data.benchmarks import Benchmark
    from bias_gate.metrics.gated import GatedMetric
    from bias_gate.report.writers import ReportWriter

T = TypeVar("T")


class UnknownName(KeyError):
    """No extension of this kind is registered under the name; the message lists them."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RegistrationError(BiasGateError):
    """A registered extension does not satisfy its kind's protocol, or cannot be loaded."""


def _resolve(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    value: Any = import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


def protocol_members(protocol: type) -> tuple[list[str], list[str]]:
    """(attributes, methods) a protocol class declares: its annotated names and the
    public functions in its body."""
    attributes = [name for name in vars(protocol).get("__annotations__", {})]
    methods = [
        name
        for name, value in vars(protocol).items()
        if callable(value) and not name.startswith("_")
    ]
    return attributes, methods


def missing_members(candidate: Any, protocol: type) -> list[str]:
    """The members of ``protocol`` that ``candidate`` (a class or an object) lacks; a
    method that is there but not callable counts as missing."""
    attributes, methods = protocol_members(protocol)
    missing = [name for name in attributes if not hasattr(candidate, name)]
    missing += [name for name in methods if not callable(getattr(candidate, name, None))]
    return missing


@dataclass
class Registry(Generic[T]):
    """Extensions of one kind by name; ``T`` is what one registers (the protocol's class
    type for the five registries below).

    ``group``: the entry point group (``bias_gate.metrics``). ``kind``: what one is
    called in messages (``gated metric``). ``protocol``: ``"module:Class"`` of the
    protocol every extension must satisfy (a reference, so this module and the configs
    that list names stay free of the protocol's imports). ``check``: an extra check of
    a loaded extension; returns a problem in words, or ``None``.
    """

    group: str
    kind: str
    protocol: str
    check: Callable[[str, Any], str | None] | None = None
    _registered: dict[str, T] = field(default_factory=dict, repr=False)

    def _entry_points(self) -> dict[str, metadata.EntryPoint]:
        return {ep.name: ep for ep in metadata.entry_points(group=self.group)}

    def _checked(self, name: str, candidate: T, origin: str) -> T:
        protocol = _resolve(self.protocol)
        missing = missing_members(candidate, protocol)
        problem = f"lacks {', '.join(missing)}" if missing else None
        if problem is None and self.check is not None:
            problem = self.check(name, candidate)
        if problem is not None:
            raise RegistrationError(
                f"{self.kind} {name!r} ({origin}) does not satisfy "
                f"{self.protocol.replace(':', '.')}: {problem}",
                key=self.group,
            )
        return candidate

    def register(self, name: str, extension: T) -> None:
        """Register ``extension`` as ``name`` (checked against the protocol now)."""
        self._registered[name] = self._checked(name, extension, "registered directly")

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)

    def available(self) -> list[str]:
        """Every name registered or declared as an entry point, sorted (imports nothing)."""
        return sorted(set(self._registered) | set(self._entry_points()))

    def unknown(self, name: str) -> str:
        """The message for a name nobody registered."""
        return f"unknown {self.kind} {name!r}; available: {', '.join(self.available())}"

    def get(self, name: str) -> T:
        """The extension registered as ``name``, loaded and checked on first use;
        :class:`UnknownName` listing the available names if there is none,
        :class:`RegistrationError` if it cannot be loaded or is not what its kind needs."""
        if name in self._registered:
            return self._registered[name]
        entry = self._entry_points().get(name)
        if entry is None:
            raise UnknownName(self.unknown(name))
        origin = f"entry point {entry.value} in group {self.group}"
        try:
            loaded = _resolve(entry.value)
        except (ImportError, AttributeError) as exc:
            raise RegistrationError(
                f"{self.kind} {name!r} ({origin}) cannot be loaded: {exc}", key=self.group
            ) from None
        checked: T = self._checked(name, loaded, origin)
        self._registered[name] = checked
        return checked


def _named(name: str, extension: Any) -> str | None:
    """An extension's ``name`` must be the name it is registered under (it is what the
    results and reports record)."""
    own = getattr(extension, "name", None)
    return None if own == name else f"its name is {own!r}, registered as {name!r}"


BENCHMARKS: Registry[type[Benchmark]] = Registry(
    "bias_gate.benchmarks", "benchmark", "bias_gate.data.benchmarks:Benchmark", check=_named
)
METRICS: Registry[type[GatedMetric]] = Registry(
    "bias_gate.metrics", "gated metric", "bias_gate.metrics.gated:GatedMetric", check=_named
)
SCORING_MODES: Registry[type[ScoringMode]] = Registry(
    "bias_gate.scoring_modes",
    "scoring mode",
    "bias_gate.answer.context:ScoringMode",
    check=_named,
)
REPORTS: Registry[type[ReportWriter]] = Registry(
    "bias_gate.reports", "report writer", "bias_gate.report.writers:ReportWriter", check=_named
)
COMPRESSORS: Registry[type[Compressor]] = Registry(
    "bias_gate.compressors", "compression method", "bias_gate.compress.base:Compressor"
)
