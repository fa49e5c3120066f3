"""Random numbers as PyTorch draws them on the CPU, bit for bit: `randn`, `rand`, `randint`, `randperm`,
`multinomial`, `bernoulli` (with `generator=`, or the default generator that `manual_seed` reseeds).

The bits are PyTorch's mt19937 stream (`glassgrad/_tensor/generator.py`); this module turns them into
numbers with PyTorch's own transformations, in numpy and whole arrays at a time:
- uniform: 24 random bits of a 32-bit number for float32, 53 bits of a 64-bit one for float64,
  then `x * (high - low) + low` as one fused multiply-add;
- normal: for 16 or more contiguous numbers PyTorch fills uniforms and turns each block of 16 into
  8 Box-Muller pairs (a last incomplete block redraws the final 16); float32 does it with the
  AVX2 kernel's own float32 log and sincos polynomials (avx_mathfun), emulated here operation by
  operation. Fewer than 16 numbers (or a non-contiguous tensor) are drawn one by one in float64,
  keeping the pair's second number in the generator for the next draw;
- integers: a 32-bit number modulo the range (a 64-bit one for ranges of 2**32 and more);
- randperm: PyTorch's Fisher-Yates swaps, solved for all positions at once;
- multinomial: with replacement, a binary search of one float64 uniform in the row's normalised
  cumulative sum; without, the largest `p / q` for exponential `q` (the Gumbel trick).

The `uniform`, `normal`, `bernoulli`, `exponential`, `integers` functions fill a numpy array in
place, in PyTorch's order; in-place tensor methods, `nn.init` and dropout draw through them.
PyTorch's float32 normals come from its AVX2 kernel on x86 (also on AVX-512 machines); on a CPU
without AVX2 (ARM) PyTorch uses libm's float32 functions instead, which glassgrad does not follow.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from glassgrad._tensor.creation import size_of, wrap
from glassgrad._tensor.devices import on_cpu
from glassgrad._tensor.dtypes import FLOATING, get_default_dtype, int64, to_dtype
from glassgrad._tensor.generator import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    resolve,
    seed,
    set_rng_state,
)
from glassgrad._tensor.tensor import Tensor

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "randn", "rand", "randint", "randperm", "multinomial", "bernoulli", "randn_like", "rand_like", "randint_like",
    "uniform", "normal", "bernoulli_", "exponential", "integers", "random_bits", "draw_seed",
]  # fmt: skip

f32, f64 = np.float32, np.float64
_MASK53 = np.uint64(2**53 - 1)
_CHUNK = 2**15  # normals are made this many at a time (a multiple of 16)


# ---- Fused multiply-add, as the compiled kernels do it ------------------------------------------


def _fma32(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """float32 a * b + c rounded once. a * b of two float32 is exact in float64; the sum is rounded
    to float64 and then to float32, which is the single rounding except when the float64 sum lands
    exactly halfway between two float32 numbers: those (rare) ones are rounded by the sign of the
    float64 sum's error."""
    s = a.astype(f64)
    s *= np.asarray(b, f64)
    p = s.copy()
    c = np.asarray(c, f64)
    s += c
    r = s.astype(f32)
    low = s.view(np.uint64) & np.uint64(0x1FFFFFFF)
    halfway = low == np.uint64(0x10000000)
    if halfway.any():
        cb = np.broadcast_to(c, s.shape)
        ps, cs, ss = p[halfway], cb[halfway], s[halfway]
        back = ss - ps
        error = (ps - (ss - back)) + (cs - back)  # p + c == s + error exactly (two-sum)
        nearest = r[halfway].astype(f64)
        other = 2 * ss - nearest  # the float32 on the other side of the halfway point
        r[halfway] = np.where(np.sign(error) == np.sign(other - nearest), other, nearest).astype(f32)
    return r


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    high = a * 134217729.0  # 2**27 + 1: Veltkamp's split into two 26-bit halves
    high = high - (high - a)
    return high, a - high


def _fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """float64 a * b + c as a fused multiply-add: the product's and the sum's rounding errors are
    computed exactly (Dekker's two-product, Knuth's two-sum) and added back before the one rounding."""
    a = np.asarray(a, f64)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(np.float64(b))
    product_error = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    back = s - p
    sum_error = (p - (s - back)) + (c - back)
    return s + (sum_error + product_error)


# ---- Bits to numbers ------------------------------------------------------------------------------


def _unit(gen: Generator, n: int, dtype: np.dtype) -> np.ndarray:
    """n numbers uniform in [0, 1): float32 from 24 bits of a 32-bit output, float64 from 53 of a 64-bit one."""
    if dtype == f64:
        return (gen.bits64(n) & _MASK53).astype(f64) * 2.0**-53
    return (gen.bits32(n) & np.uint32(0xFFFFFF)).astype(f32) * f32(2.0**-24)


def _fill(out: np.ndarray, values: np.ndarray) -> None:
    """Write `values` into `out` in the order PyTorch's kernels visit its elements: memory order
    (axes by decreasing stride), which is the flat order for a contiguous array."""
    order = sorted(range(out.ndim), key=lambda axis: -abs(out.strides[axis]))
    view = out.transpose(order)
    view[...] = values.reshape(view.shape)


def _floating(out: np.ndarray, where: str) -> None:
    if out.dtype not in FLOATING:
        raise TypeError(f"{where}: draws floating numbers; the dtype must be float32 or float64, got {out.dtype}")


def uniform(out: np.ndarray, low: float, high: float, generator: Generator | None = None) -> np.ndarray:
    """Fill `out` (float32 or float64) with numbers uniform in [low, high), as `Tensor.uniform_`; returns it."""
    _floating(out, "uniform_")
    if not low <= high:
        raise ValueError(f"uniform_: expects low <= high, got low={low}, high={high}")
    gen = resolve(generator, "uniform_")
    with gen.lock:
        x = _unit(gen, out.size, out.dtype)
    if out.dtype == f32:
        values = _fma32(x, f32(high) - f32(low), f32(low))
    else:
        values = _fma64(x, float(high) - float(low), float(low))
    _fill(out, values)
    return out


def normal(out: np.ndarray, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> np.ndarray:
    """Fill `out` (float32 or float64) with normal numbers of `mean` and `std`, as `Tensor.normal_`; returns it."""
    _floating(out, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_: expects std >= 0.0, got std={std}")
    gen = resolve(generator, "normal_")
    n = out.size
    with gen.lock:
        if n >= 16 and out.flags.c_contiguous:
            flat = out.reshape(-1)
            flat[...] = _unit(gen, n, out.dtype)
            blocks = _normal_blocks_avx2 if out.dtype == f32 else _normal_blocks
            full = n - n % 16
            for start in range(0, full, _CHUNK):  # pieces that stay in the cache: ~3 times faster
                piece = flat[start : min(start + _CHUNK, full)]
                piece[...] = blocks(piece, mean, std)
            if n % 16:  # PyTorch redraws the last 16 numbers and transforms them as one more block
                flat[n - 16 :] = blocks(_unit(gen, 16, out.dtype), mean, std)
        else:
            _fill(out, _normal_pairs(gen, n, mean, std).astype(out.dtype))
    return out


def _normal_pairs(gen: Generator, n: int, mean: float, std: float) -> np.ndarray:
    """n normal numbers drawn one at a time (PyTorch's `normal_distribution<double>`): each pair of
    float64 uniforms (u1, u2) gives r cos(theta) now and r sin(theta) kept in the generator, with
    r = sqrt(-2 log(1 - u2)) and theta = 2 pi u1."""
    values = []
    if n and gen.normal_cache is not None:
        values.append(np.array([gen.normal_cache]))
        gen.normal_cache = None
    pairs = (n - len(values) + 1) // 2
    u = _unit(gen, 2 * pairs, f64).reshape(pairs, 2)
    r = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
    theta = 2.0 * math.pi * u[:, 0]
    both = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).reshape(-1)
    if (n - len(values)) % 2:
        gen.normal_cache = float(both[-1])
        both = both[:-1]
    values.append(both)
    return _fma64(np.concatenate(values), std, mean)


def _normal_blocks(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Blocks of 16 float64 uniforms to normals: the first 8 give u1, the last 8 u2 of 8 Box-Muller pairs."""
    block = u.reshape(-1, 16)
    radius = np.sqrt(-2.0 * np.log(1.0 - block[:, :8]))
    theta = 2.0 * math.pi * block[:, 8:]
    return _fma64(np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1), std, mean).reshape(-1)


def _normal_blocks_avx2(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """The float32 blocks of 16 as PyTorch's AVX2 kernel computes them, every operation in float32."""
    block = u.reshape(-1, 16)
    radius = np.sqrt(f32(-2.0) * _log_avx2(f32(1.0) - block[:, :8]))
    sin, cos = _sincos_avx2(f32(2.0 * math.pi) * block[:, 8:])
    both = np.concatenate([radius * cos, radius * sin], axis=1)
    return _fma32(both, f32(std), f32(mean)).reshape(-1)


_LOG_P = [f32(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1)]
_LOG_P += [f32(c) for c in (-1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_COS_P = [f32(c) for c in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)]
_SIN_P = [f32(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_DP = [f32(c) for c in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]


def _log_avx2(x: np.ndarray) -> np.ndarray:
    """log of positive normal float32 as avx_mathfun's `log256_ps` (Cephes' logf): x = m 2^e with
    m in [sqrt(1/2), sqrt(2)), a degree-9 polynomial in m - 1, and e log 2 in two parts. The
    compiler fuses each multiply-add, so those are `_fma32`."""
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(f32) + f32(1.0)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(f32)  # the mantissa, in [0.5, 1)
    small = m < f32(0.707106781186547524)
    e = e - small.astype(f32)
    m = (m - f32(1.0)) + np.where(small, m, f32(0.0))
    z = m * m
    y = np.full_like(m, _LOG_P[0])
    for c in _LOG_P[1:]:
        y = _fma32(y, m, c)
    y = _fma32(y * m, z, e * f32(-2.12194440e-4))
    y = y - z * f32(0.5)
    return (m + y) + e * f32(0.693359375)


def _sincos_avx2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of non-negative float32 as avx_mathfun's `sincos256_ps` (Cephes' sinf/cosf):
    reduced by multiples of pi/4 in three parts, then one polynomial for sin and one for cos."""
    j = (x * f32(1.27323954473516)).astype(np.int32)  # 4 / pi, truncated
    j = (j + 1) & ~1
    y = j.astype(f32)
    for dp in _DP:
        x = _fma32(y, dp, x)
    z = x * x
    c = np.full_like(x, _COS_P[0])
    for p in _COS_P[1:]:
        c = _fma32(c, z, p)
    c = _fma32(c * z, z, -(z * f32(0.5))) + f32(1.0)
    s = np.full_like(x, _SIN_P[0])
    for p in _SIN_P[1:]:
        s = _fma32(s, z, p)
    s = _fma32(s * z, x, x)
    near = (j & 2) == 0  # x within pi/4 of a multiple of pi: sin from the sine polynomial
    sin, cos = np.where(near, s, c), np.where(near, c, s)
    return np.where((j & 4) != 0, -sin, sin), np.where((~(j - 2) & 4) != 0, -cos, cos)


def bernoulli_(out: np.ndarray, p: float | np.ndarray, generator: Generator | None = None) -> np.ndarray:
    """Fill `out` with 1 where a uniform number is below `p`, else 0, as `Tensor.bernoulli_`; returns it.

    A number `p` (dropout's) is compared with float64 uniforms; an array of probabilities (broadcast
    to `out`) with uniforms of its own dtype, 24-bit ones for float32 and 53-bit for float64."""
    gen = resolve(generator, "bernoulli_")
    if isinstance(p, np.ndarray):
        if p.dtype not in FLOATING:
            raise TypeError(f"bernoulli: probabilities must be float32 or float64, got {p.dtype}")
        if not ((p >= 0) & (p <= 1)).all():
            raise ValueError("bernoulli: probabilities must be in [0, 1]")
        probs = np.broadcast_to(p, out.shape)
        order = sorted(range(out.ndim), key=lambda axis: -abs(out.strides[axis]))
        with gen.lock:
            u = _unit(gen, out.size, p.dtype)
        _fill(out, u < probs.transpose(order).reshape(-1))
    else:
        if not 0 <= p <= 1:
            raise ValueError(f"bernoulli_: expects 0 <= p <= 1, got p={p}")
        with gen.lock:
            _fill(out, _unit(gen, out.size, f64) < p)
    return out


def exponential(out: np.ndarray, lambd: float = 1.0, generator: Generator | None = None) -> np.ndarray:
    """Fill `out` (float32 or float64) with exponential numbers of rate `lambd`: -log1p(-u) / lambd
    for float64 uniforms u, as `Tensor.exponential_`; returns it."""
    _floating(out, "exponential_")
    if not lambd > 0:
        raise ValueError(f"exponential_: expects lambd > 0.0, got lambd={lambd}")
    gen = resolve(generator, "exponential_")
    with gen.lock:
        u = _unit(gen, out.size, f64)
    _fill(out, ((-1.0 / lambd) * np.log1p(-u)).astype(out.dtype))
    return out


def integers(out: np.ndarray, low: int, high: int, generator: Generator | None = None) -> np.ndarray:
    """Fill `out` with integers uniform in [low, high), as `Tensor.random_(low, high)`: a 32-bit number
    modulo high - low, or a 64-bit one when the range is 2**32 or more (for int64 and floating `out`)."""
    span = high - low
    if span <= 0:
        raise ValueError(f"random_: expects low < high, got low={low}, high={high}")
    gen = resolve(generator, "random_")
    wide = span >= 2**32 and out.dtype in (np.int64, np.float64, np.float32)
    with gen.lock:
        bits = gen.bits64(out.size) if wide else gen.bits32(out.size).astype(np.uint64)
    values = (bits % np.uint64(span)).astype(np.int64) + np.int64(low)  # wraps as PyTorch's uint64 sum
    _fill(out, values.astype(out.dtype))
    return out


def random_bits(out: np.ndarray, generator: Generator | None = None) -> np.ndarray:
    """Fill `out` as `Tensor.random_()` does: integers from 0 to the dtype's largest (2**63 - 1 for
    int64, 2**31 - 1 for int32), to 2**24 for float32 and 2**53 for float64, 0 or 1 for bool."""
    gen = resolve(generator, "random_")
    kind = out.dtype
    with gen.lock:
        wide = kind in (np.int64, np.float64)
        bits = gen.bits64(out.size) if wide else gen.bits32(out.size).astype(np.uint64)
    if kind == np.bool_:
        values = bits & np.uint64(1)
    elif kind in FLOATING:
        values = bits % np.uint64(2 ** (np.finfo(kind).nmant + 1) + 1)
    else:
        values = bits % np.uint64(int(np.iinfo(kind).max) + 1)
    _fill(out, values.astype(kind))
    return out


def draw_seed(generator: Generator | None = None) -> int:
    """A seed for a new generator, drawn from `generator` (the default one for None): what PyTorch's
    `torch.empty((), dtype=torch.int64).random_(generator=g).item()` draws (a 64-bit number modulo
    2**63), which is how its DataLoader and RandomSampler start their streams."""
    return int(random_bits(np.empty((), np.int64), generator))


def permutation(n: int, generator: Generator | None = None) -> np.ndarray:
    """0 .. n-1 shuffled as PyTorch's randperm (for n below 2**32 / 20): for i = 0 .. n-2, swap
    position i with position i + z_i, z_i = (a 32-bit number) % (n - i). The swaps are sequential,
    but each position's final number can be found for all at once:
    - after step i, position i never changes again: it keeps the number that stood at t_i = i + z_i;
    - the number at position p before step i came with the last earlier step j that swapped into p
      (t_j = p): it is w_j, the number position j held before step j; with no such step, it is p;
    - so w_i points back to an earlier w_j, and following those pointers (by pointer doubling,
      log n rounds of numpy indexing) gives every w, and from them every final position."""
    if n >= 2**32 // 20:
        raise ValueError(f"randperm: n={n} is too large; glassgrad draws permutations of fewer than {2**32 // 20}")
    gen = resolve(generator, "randperm")
    if n < 2:
        return np.arange(n, dtype=np.int64)
    steps = np.arange(n - 1)
    with gen.lock:
        bits = gen.bits32(n - 1).astype(np.int64)
    target = steps + bits % (n - steps)  # step i swaps positions i and target[i] >= i
    # the steps grouped by target, earliest first (one sort of target * n + step: fast and stable)
    grouped_target, grouped_step = np.divmod(np.sort(target * n + steps), n)
    same = grouped_target[1:] == grouped_target[:-1]
    before = np.full(n, -1)  # for each step, the previous step with the same target
    before[grouped_step[1:][same]] = grouped_step[:-1][same]
    last = np.full(n, -1)  # for each position, the last step with it as target
    ends = np.append(~same, True)
    last[grouped_target[ends]] = grouped_step[ends]
    # for each position i, the last step before i that swapped into it: the last with target i,
    # unless that is step i itself (z_i = 0), then the one before
    positions = np.arange(n)
    into = np.where(last == positions, before[last], last)
    w = np.where(into >= 0, into, positions)
    while True:  # pointer doubling: each round follows the pointers twice as far
        further = w[w]
        if np.array_equal(further, w):
            break
        w = further
    # a chain ends at a position no step swapped into before: its number is the position itself
    return np.where(before >= 0, w[before], np.append(target, w[-1]))


def _categories(weights: np.ndarray, num_samples: int, replacement: bool, gen: Generator) -> np.ndarray:
    """`num_samples` category indices for each row of `weights` (1-D or 2-D, float32 or float64)."""
    rows = weights.reshape(-1, weights.shape[-1])
    if not replacement or num_samples == 1:  # PyTorch's fast path, one sample with replacement too
        q = np.empty_like(weights)
        exponential(q, 1.0, gen)
        keys = (weights / q).reshape(rows.shape)
        if num_samples == 1:
            return keys.argmax(axis=1, keepdims=True)
        return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    picks = np.empty((len(rows), num_samples), dtype=np.int64)
    with gen.lock:
        for i, row in enumerate(rows):
            cumulative = np.cumsum(row)  # in the weights' dtype, one addition at a time
            cumulative /= cumulative[-1]
            cumulative[-1] = 1
            picks[i] = np.searchsorted(cumulative, _unit(gen, num_samples, f64), side="left")
    return picks


# ---- The tensor functions -----------------------------------------------------------------------


def _floating_dtype(dtype: Any, where: str) -> np.dtype:
    resolved = get_default_dtype() if dtype is None else to_dtype(dtype, where)
    if resolved not in FLOATING:
        raise TypeError(f"{where}: draws floating numbers; dtype must be float32 or float64, got {resolved}")
    return resolved


def randn(
    *size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Numbers from the standard normal distribution (mean 0, variance 1), of `size`."""
    on_cpu(device, "randn")
    out = np.empty(size_of(size, "randn"), dtype=_floating_dtype(dtype, "randn"))
    return wrap(normal(out, 0.0, 1.0, resolve(generator, "randn")), requires_grad)


def rand(
    *size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Numbers uniform in [0, 1), of `size`."""
    on_cpu(device, "rand")
    out = np.empty(size_of(size, "rand"), dtype=_floating_dtype(dtype, "rand"))
    return wrap(uniform(out, 0.0, 1.0, resolve(generator, "rand")), requires_grad)


def randn_like(input: Tensor, generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Standard normal numbers of `input`'s shape and (floating) dtype."""
    return randn(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype, device=device)


def rand_like(input: Tensor, generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Numbers uniform in [0, 1) of `input`'s shape and (floating) dtype."""
    return rand(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype, device=device)


def _whole(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def randint(
    *args: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None, device: Any = None
) -> Tensor:
    """Integers uniform in [low, high): `randint(high, size)` or `randint(low, high, size)`, int64."""
    on_cpu(device, "randint")
    if size is not None:
        args = (*args, size)
    if len(args) == 2:
        args = (0, *args)
    if len(args) != 3:
        raise TypeError(f"randint: expected randint(high, size) or randint(low, high, size), got {args!r}")
    low, high = _whole(args[0], "randint", "low"), _whole(args[1], "randint", "high")
    if low >= high:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    out = np.empty(size_of((args[2],), "randint"), dtype=int64 if dtype is None else to_dtype(dtype, "randint"))
    return wrap(integers(out, low, high, resolve(generator, "randint")))


def randint_like(
    input: Tensor, low: int, high: int | None = None, generator: Generator | None = None, dtype: Any = None,
    device: Any = None,
) -> Tensor:  # fmt: skip
    """Integers uniform in [low, high) (or [0, low) with one bound) of `input`'s shape and dtype."""
    low, high = (0, low) if high is None else (low, high)
    kind = input.dtype if dtype is None else dtype
    return randint(low, high, input.shape, generator=generator, dtype=kind, device=device)


def randperm(n: int, generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """The integers 0 .. n-1 in a random order, int64."""
    on_cpu(device, "randperm")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative integer, got {n!r}")
    data = permutation(int(n), resolve(generator, "randperm"))
    return wrap(data.astype(int64 if dtype is None else to_dtype(dtype, "randperm")))


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, generator: Generator | None = None
) -> Tensor:
    """`num_samples` category indices per row of `input` (weights: non-negative, need not sum to 1), int64.

    Without replacement each category is drawn at most once, so at most as many as have weight > 0.
    """
    weights = np.asarray(input._data if isinstance(input, Tensor) else input)
    if weights.dtype not in FLOATING:
        if isinstance(input, Tensor):
            raise TypeError(f"multinomial: expected floating weights (float32 or float64), got {weights.dtype}")
        weights = weights.astype(get_default_dtype())
    if weights.ndim not in (1, 2) or weights.shape[-1] == 0:
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {weights.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive integer, got {num_samples!r}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("multinomial: weights must be finite and non-negative (probabilities or counts)")
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: each row of weights must have a positive sum")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{int((rows > 0).sum(axis=1).min())} categories of non-zero weight"
        )
    picks = _categories(weights, int(num_samples), bool(replacement), resolve(generator, "multinomial"))
    return wrap(picks.reshape(weights.shape[:-1] + (num_samples,)))


def bernoulli(input: Tensor, p: float | None = None, generator: Generator | None = None) -> Tensor:
    """1 or 0 for each element, 1 with probability `input` (or `p`), in `input`'s dtype."""
    probs = np.asarray(input._data if isinstance(input, Tensor) else input)
    out = np.empty_like(probs)
    return wrap(bernoulli_(out, probs if p is None else p, resolve(generator, "bernoulli")))
