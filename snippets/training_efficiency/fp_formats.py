"""Range and precision of fp32, fp16 and bf16, read from torch.finfo."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

FORMATS: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}


# --8<-- [start:describe]
@dataclass(frozen=True)
class FormatInfo:
    name: str
    bits: int
    exponent_bits: int
    mantissa_bits: int  # stored fraction bits; precision is one more (implicit leading 1)
    max: float  # largest finite value
    smallest_normal: float
    smallest_subnormal: float  # below this, values round to zero
    eps: float  # gap between 1.0 and the next representable number
    decimal_digits: float  # about (mantissa_bits + 1) * log10(2)


def describe(name: str) -> FormatInfo:
    """Bit layout, range and precision of a floating-point dtype."""
    fi = torch.finfo(FORMATS[name])
    mantissa = round(-math.log2(fi.eps))
    return FormatInfo(
        name=name,
        bits=fi.bits,
        exponent_bits=fi.bits - 1 - mantissa,
        mantissa_bits=mantissa,
        max=fi.max,
        smallest_normal=fi.smallest_normal,
        smallest_subnormal=fi.smallest_normal * fi.eps,
        eps=fi.eps,
        decimal_digits=(mantissa + 1) * math.log10(2),
    )
# --8<-- [end:describe]


# --8<-- [start:round-trip]
def round_trip(value: float, name: str) -> float:
    """The number you actually get when `value` is stored in format `name`."""
    return float(torch.tensor(value, dtype=torch.float64).to(FORMATS[name]))
# --8<-- [end:round-trip]


if __name__ == "__main__":
    print(f"{'':5}{'bits':>5}{'exp':>5}{'mant':>5}{'max':>12}{'min normal':>12}"
          f"{'min subnormal':>15}{'eps':>11}{'digits':>8}")
    for name in FORMATS:
        f = describe(name)
        print(f"{name:5}{f.bits:>5}{f.exponent_bits:>5}{f.mantissa_bits:>5}{f.max:>12.5g}"
              f"{f.smallest_normal:>12.3g}{f.smallest_subnormal:>15.3g}{f.eps:>11.3g}"
              f"{f.decimal_digits:>8.1f}")
    print()
    cases = [
        ("a large activation", 70000.0),
        ("a small gradient", 1e-8),
        ("weight 1.0 + update 1e-4", 1.0 + 1e-4),
        ("weight 1.0 + update 1e-3", 1.0 + 1e-3),
    ]
    print(f"{'stored value':26}" + "".join(f"{n:>14}" for n in FORMATS))
    for label, value in cases:
        print(f"{label:26}" + "".join(f"{round_trip(value, n):>14.8g}" for n in FORMATS))
