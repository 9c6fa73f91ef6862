"""What the answer engine returns for one item."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One model's answer to one BBQ item.

    ``choice``: the chosen option index (0-2) in the item's original order, or ``None``
    when the model gave no valid answer (unparseable generation). ``valid`` is
    ``choice is not None``.

    ``probs``: probabilities over the three options in original order (sum 1), where the
    scoring mode has them (``letter``, ``permuted``, ``continuation``; for ``generate``
    the share of seeds choosing each option, over valid seeds).

    ``position_votes``: for each prompt the item was scored with (one per rotation in
    ``permuted``, one in ``letter``), the *letter position* (0 = A) that won; used for
    the letter-position validity diagnostic.

    ``seed_choices``: in ``generate`` mode, the choice under each seed (``None`` where
    unparseable); ``choice`` is their majority vote (ties and all-invalid -> ``None``).

    ``raw``: the generated text (``generate`` mode; the first seed's), for inspection.

    ``texts``: every seed's generated text (``generate`` mode), in seed order.

    ``mode``: the scoring mode that produced the answer (``letter``, ``permuted``,
    ``continuation``, ``generate``); the validity diagnostics read it.
    """

    key: str
    choice: int | None
    probs: tuple[float, float, float] | None = None
    position_votes: tuple[int, ...] = ()
    seed_choices: tuple[int | None, ...] = ()
    raw: str | None = None
    texts: tuple[str, ...] = ()
    mode: str | None = None

    @property
    def valid(self) -> bool:
        return self.choice is not None

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "choice": self.choice,
            "probs": list(self.probs) if self.probs is not None else None,
            "position_votes": list(self.position_votes),
            "seed_choices": list(self.seed_choices),
            "raw": self.raw,
            "texts": list(self.texts),
            "mode": self.mode,
        }

    @classmethod
    def from_json(cls, obj: dict) -> Answer:
        probs = obj.get("probs")
        return cls(
            key=obj["key"],
            choice=obj["choice"],
            probs=tuple(probs) if probs is not None else None,  # type: ignore[arg-type]
            position_votes=tuple(obj.get("position_votes", ())),
            seed_choices=tuple(obj.get("seed_choices", ())),
            raw=obj.get("raw"),
            texts=tuple(obj.get("texts", ())),
            mode=obj.get("mode"),
        )
