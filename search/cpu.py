"""What this CPU can do with 8-bit integers, which decides the int8 model kb builds and the backend `auto` picks."""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import Literal


def has_vnni() -> bool:
    """Whether this CPU has VNNI (AVX-512 or AVX), which multiplies 8-bit pairs without saturating."""
    return any(flag in _cpu_flags() for flag in ("avx512_vnni", "avx_vnni"))


def int8_saturates() -> bool:
    """An x86 CPU without VNNI: its u8 × s8 multiplies sum pairs into int16 that can saturate, so int8
    weights must keep to 7 bits there, at a cost in accuracy (`search/onnx_quantize.py`)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    return not has_vnni()  # unknown (not Linux): assume the worst, 7-bit weights are safe everywhere


def auto_backend() -> Literal["onnx-int8-queries", "onnx-int8"]:
    """The embedding backend `auto` means here: int8 where 8-bit weights run exactly, else int8 for queries only.

    The int8 model stays within 0.003 nDCG@10 of torch with 8-bit weights; with 7-bit ones it loses up to
    0.0042 and falls below plain dense retrieval on two sets (`docs/benchmarks.md`). So those CPUs embed
    documents in fp32, once, and queries, on every search, in int8: within 0.0018 of fp32 on the four sets measured.
    """
    return "onnx-int8-queries" if int8_saturates() else "onnx-int8"


def cpu_description() -> str:
    """The CPU's name, whether it has VNNI, and what kb picks on it, for benchmark reports."""
    name = next((line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines() if line.startswith("model name")),
                platform.processor() or platform.machine())
    weights = "7-bit" if int8_saturates() else "8-bit"
    return f"{name}, VNNI {'yes' if has_vnni() else 'no'} (int8 weights {weights}; backend `auto` = {auto_backend()})"


def _cpu_flags() -> set[str]:
    return {flag for line in _cpuinfo().splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


@functools.cache  # the CPU does not change while kb runs; every Settings() asks (`auto`)
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
