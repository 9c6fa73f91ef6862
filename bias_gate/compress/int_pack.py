"""Grouped integer weights: round-to-nearest quantization split into its integer codes
and the floats that map them back, and the one function that maps them back.

:func:`quantize` gives the codes ``q`` (integers, as float32), one ``scale`` and one
``zero`` per group of inputs of each row; :func:`dequantize` computes
``((q - zero) * scale)`` in float32 and casts to the weight's dtype. ``rtn``'s
fake-quantization is exactly ``dequantize(quantize(w))``, and the cache stores ``q``
packed (:func:`pack_codes`: one byte per 8-bit code, two 4-bit codes per byte) with
``scale`` and ``zero``, so reading a cached entry runs the same float operations on the
same values: the weights come back bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Packed:
    """:class:`Quantized` as it is stored: ``codes`` (uint8, :func:`pack_codes`),
    ``scale`` and ``zero`` (float32; ``zero`` is ``None`` when all zeros, as in
    symmetric quantization), ``bits``, ``offset``, the codes' ``shape``."""

    codes: torch.Tensor
    scale: torch.Tensor
    zero: torch.Tensor | None
    bits: int
    offset: int
    shape: list[int]


@dataclass(frozen=True)
class Quantized:
    """One matrix as integer codes: ``q`` (float32 holding integers, shape
    ``rows x groups x size``), ``scale`` and ``zero`` (float32, ``rows x groups x 1``),
    ``bits``, ``offset`` (the smallest code: ``-2^(bits-1)`` when symmetric, else 0),
    and the ``dtype`` the weights are used in."""

    q: torch.Tensor
    scale: torch.Tensor
    zero: torch.Tensor
    bits: int
    offset: int
    dtype: torch.dtype


def quantize(weight: torch.Tensor, bits: int, group_size: int | None, symmetric: bool) -> Quantized:
    """``weight`` rounded to ``bits``-bit integers per group of ``group_size`` inputs of
    each row (the whole row when ``None``).

    Symmetric: q in [-2^(b-1), 2^(b-1) - 1], scale = max|w| / (2^(b-1) - 1), zero = 0.
    Asymmetric: q in [0, 2^b - 1], scale = (max - min) / (2^b - 1), zero = round(-min/scale).
    """
    rows, cols = weight.shape
    size = group_size or cols
    if cols % size:
        raise ValueError(f"input dimension {cols} is not a multiple of group_size {size}")
    w = weight.detach().float().reshape(rows, cols // size, size)
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = (w.abs().amax(dim=2, keepdim=True) / qmax).clamp(min=1e-12)
        # + 0.0 turns a rounded -0.0 into +0.0: an integer code has no sign of zero.
        q = torch.clamp(torch.round(w / scale), -qmax - 1, qmax) + 0.0
        zero = torch.zeros_like(scale)
        offset = -qmax - 1
    else:
        qmax = 2**bits - 1
        low = w.amin(dim=2, keepdim=True).clamp(max=0)
        high = w.amax(dim=2, keepdim=True).clamp(min=0)
        scale = ((high - low) / qmax).clamp(min=1e-12)
        zero = torch.round(-low / scale)
        q = torch.clamp(torch.round(w / scale) + zero, 0, qmax)
        offset = 0
    return Quantized(q, scale, zero, bits, offset, weight.dtype)


def dequantize(quantized: Quantized) -> torch.Tensor:
    """The weights the codes stand for: ``(q - zero) * scale`` as ``rows x cols``."""
    q = quantized.q
    out = (q - quantized.zero) * quantized.scale
    return out.reshape(q.shape[0], -1).to(quantized.dtype)


def pack_codes(q: torch.Tensor, bits: int, offset: int) -> torch.Tensor:
    """``q`` (integers in ``[offset, offset + 2^bits)``) as bytes: ``q - offset`` one per
    byte for 8 bits, two per byte (low nibble first) for 4 bits."""
    codes = (q.reshape(-1) - offset).to(torch.uint8)
    if bits == 8:
        return codes
    if codes.numel() % 2:
        codes = torch.cat([codes, codes.new_zeros(1)])
    return codes[0::2] | (codes[1::2] << 4)


def unpack_codes(packed: torch.Tensor, bits: int, offset: int, shape: list[int]) -> torch.Tensor:
    """The codes :func:`pack_codes` packed, as float32 of ``shape``."""
    codes = packed if bits == 8 else torch.stack([packed & 0x0F, packed >> 4], 1).reshape(-1)
    numel = 1
    for dim in shape:
        numel *= dim
    return (codes[:numel].to(torch.float32) + offset).reshape(shape)


def pack(quantized: Quantized) -> Packed:
    """``quantized`` with its codes packed into bytes."""
    codes = pack_codes(quantized.q, quantized.bits, quantized.offset)
    zero = quantized.zero
    return Packed(
        codes,
        quantized.scale.contiguous(),
        None if bool((zero == 0).all()) else zero.contiguous(),
        quantized.bits,
        quantized.offset,
        list(quantized.q.shape),
    )


def unpack(packed: Packed, dtype: torch.dtype) -> Quantized:
    """The :class:`Quantized` that :func:`pack` packed, for weights in ``dtype``."""
    q = unpack_codes(packed.codes, packed.bits, packed.offset, packed.shape)
    zero = torch.zeros_like(packed.scale) if packed.zero is None else packed.zero
    return Quantized(q, packed.scale, zero, packed.bits, packed.offset, dtype)
