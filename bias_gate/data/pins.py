"""The third-party data the gate downloads, pinned: the commit each file is fetched from
and the digest it must have.

Nothing is trusted on first use: a download (and a cached copy, on every reuse) whose
content differs from the digest here is refused with one line naming the file
(:func:`bias_gate.data.download.fetch_cached`).

* BBQ: github.com/nyu-mll/BBQ at commit :data:`BBQ_COMMIT` (the last commit that changed
  ``data/``, 2022; the repository's head holds the same files). The SHA-256 of six
  categories was computed from the official files (``../shared/data/bbq``, whose git blob
  ids equal those of that commit's tree). The other five are pinned by their git blob id
  in that commit's tree (``git ls-tree``): SHA-1 of ``blob <size>\\0<content>``, what git
  itself names the content by. docs/data.md says how to renew a pin.
* WikiText-2: github.com/pytorch/examples at commit :data:`WIKITEXT2_COMMIT` (the last
  commit that changed the files, 2017), SHA-256 of the official files
  (``../shared/data/wikitext-2``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BBQ_COMMIT = "9eba1ba179cc3169f75a1c03a8b392a58d188303"
WIKITEXT2_COMMIT = "d5678bc8ac0cdd79dbd5e44d4130271018bcec4e"


@dataclass(frozen=True)
class Pin:
    """The digest a file must have: ``sha256`` (hex) or ``git-blob`` (git's SHA-1 id)."""

    kind: str
    hexdigest: str

    def of(self, body: bytes) -> str:
        """This pin's kind of digest of ``body``."""
        if self.kind == "sha256":
            return hashlib.sha256(body).hexdigest()
        return hashlib.sha1(b"blob %d\0" % len(body) + body, usedforsecurity=False).hexdigest()

    def matches(self, body: bytes) -> bool:
        return self.of(body) == self.hexdigest

    def describe(self) -> str:
        return "SHA-256" if self.kind == "sha256" else "git blob id"


def _sha(hexdigest: str) -> Pin:
    return Pin("sha256", hexdigest)


def _blob(hexdigest: str) -> Pin:
    return Pin("git-blob", hexdigest)


#: ``<Category>.jsonl`` of BBQ at :data:`BBQ_COMMIT`.
BBQ_PINS: dict[str, Pin] = {
    "Age": _sha("46e805b3fc2d8cbd26eeb8e8430d98cf7b2dc9c83574ff3674e8ce4f0fca2a60"),
    "Disability_status": _sha("375d40d9b71f056150264445ec189b13934998f3f49a1e311aa7578eb3b45e5f"),
    "Gender_identity": _blob("dc79ceaaa9e7126edc99a200d632899c50274b16"),
    "Nationality": _sha("a583e74666aec0341ded8aa3983e7cad694eb24de72c254d28b2df3035720090"),
    "Physical_appearance": _sha("e48d7e13508565f4801574e611043470c25c95a0a62af3699cb5ee7cb02608fb"),
    "Race_ethnicity": _blob("68daf3d692b27a10596772b3b15742b26f0b110e"),
    "Race_x_SES": _blob("905cd8a5b8734e2063fe524e69a38f0a71c75907"),
    "Race_x_gender": _blob("dd09a905b284690445d36259d675243950fa0bd7"),
    "Religion": _sha("cb9555f9f3454a52cd2df85956b59bd7fcca5aa922c8527693b1164d08417616"),
    "SES": _blob("78d11ffbdb70f501617345e5c697d00045d57c29"),
    "Sexual_orientation": _sha("2c71036b9e7584fe589c42aef32c1a42bc01b9a5e9b1b8704342630cdb08cefd"),
}

#: ``<split>.txt`` of the PyTorch example's WikiText-2 at :data:`WIKITEXT2_COMMIT`.
WIKITEXT2_PINS: dict[str, Pin] = {
    "test": _sha("d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"),
    "valid": _sha("f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"),
}
