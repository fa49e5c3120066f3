"""PyTorch's CPU random number generator: a 32-bit Mersenne Twister (mt19937) seeded as PyTorch seeds it.

`Generator().manual_seed(2147483647)` starts the very stream `torch.Generator().manual_seed(2147483647)`
starts: the seed's low 32 bits go through mt19937's `init_genrand`, each 32-bit number is one
twister output and a 64-bit number is two of them, the first as the high half. numpy's own
`MT19937` bit generator runs the twister (in C, fast); only its seeding differs from PyTorch's,
so the state array is computed here and handed to it. Besides the twister a generator keeps what
PyTorch's keeps: the second number of the last Box-Muller pair (`normal` of fewer than 16 numbers
returns one and keeps the other), and the seed. `get_state()` is PyTorch's byte layout, so a state
moves between the two libraries. The distributions that turn these bits into numbers are in
`glassgrad/_tensor/random.py`.
"""

from __future__ import annotations

import numbers
import os
import struct
import threading
from typing import Any

import numpy as np

from glassgrad._tensor.creation import wrap
from glassgrad._tensor.devices import on_cpu

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed for a new Generator
_N = 624  # mt19937's state size, in 32-bit words
# PyTorch's CPUGeneratorImplState: seed, left, seeded, next, state[624] (as uint64), normal_x,
# normal_y (the kept normal number), normal_rho, normal_is_valid, then the float cache and its flag.
_LAYOUT = struct.Struct(f"<QiiQ{_N}Qdddixxxxf?xxx")


def _seed_key(seed: int) -> np.ndarray:
    """mt19937's `init_genrand` state for the 32-bit `seed` (PyTorch's seeding; numpy's differs)."""
    key = [seed & 0xFFFFFFFF]
    for j in range(1, _N):
        key.append((1812433253 * (key[-1] ^ (key[-1] >> 30)) + j) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


def check_seed(seed: Any, where: str) -> int:
    """`seed` as PyTorch keeps it: an integer in [-2**63, 2**64), negative ones taken modulo 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: expected an integer seed, got {type(seed).__name__} {seed!r}")
    if not -(2**63) <= int(seed) < 2**64:
        raise ValueError(f"{where}: a seed is an integer in [-2**63, 2**64), got {seed}")
    return int(seed) % 2**64


class Generator:
    """A source of random numbers with its own state, PyTorch's CPU generator: `Generator().manual_seed(2147483647)`."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = on_cpu(device, "Generator")
        self.lock = threading.Lock()
        self._twister = np.random.MT19937()
        self._bits = np.random.Generator(self._twister)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (an integer); returns the generator, as PyTorch's does."""
        seed = check_seed(seed, "manual_seed")
        with self.lock:
            self._seed = seed
            self._set_twister(_seed_key(seed), _N)
            self._fresh = True  # seeded, nothing drawn: PyTorch's state says next = 0
            self.normal_cache: float | None = None
        return self

    def seed(self) -> int:
        """Reseed from the operating system's randomness; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    def _set_twister(self, key: np.ndarray, pos: int) -> None:
        self._twister.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}

    def bits32(self, n: int) -> np.ndarray:
        """The next `n` 32-bit outputs (PyTorch's `random()`), as uint32. Draw with `lock` held, so
        that one tensor's numbers are consecutive in the stream even with other threads drawing."""
        self._fresh = False
        return self._bits.integers(0, 2**32, size=n, dtype=np.uint32)  # one twister output each

    def bits64(self, n: int) -> np.ndarray:
        """The next `n` 64-bit numbers (PyTorch's `random64()`: two outputs, the first the high half), as uint64."""
        pairs = self.bits32(2 * n).astype(np.uint64)
        return (pairs[0::2] << np.uint64(32)) | pairs[1::2]

    def get_state(self) -> Any:
        """The generator's state as PyTorch's bytes (a uint8 tensor of 5056): `set_state` takes it back,
        and so does `torch.Generator().set_state(torch.tensor(state.numpy()))`."""
        with self.lock:
            state = self._twister.state["state"]
            pos = int(state["pos"])
            kept = self.normal_cache
            packed = _LAYOUT.pack(
                self._seed, _N + 1 - pos, 1, 0 if self._fresh else pos, *state["key"].tolist(),
                0.0, 0.0 if kept is None else kept, 0.0, kept is not None, 0.0, False,
            )  # fmt: skip
        return wrap(np.frombuffer(packed, dtype=np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from `get_state()` (glassgrad's or PyTorch's: a uint8 tensor or array of 5056 bytes)."""
        data = getattr(new_state, "data", new_state)
        array = np.asarray(data.numpy() if hasattr(data, "numpy") else data)
        if array.dtype != np.uint8 or array.shape != (_LAYOUT.size,):
            raise ValueError(
                f"set_state: expected the {_LAYOUT.size} bytes (uint8) of get_state(), "
                f"got {array.dtype} of shape {array.shape}"
            )
        seed, left, seeded, next_, *rest = _LAYOUT.unpack(array.tobytes())
        key, (_, kept, _, kept_valid, _, _) = rest[:_N], rest[_N:]
        if not seeded or not 0 < left <= _N or next_ > _N or max(key) >= 2**32:
            raise ValueError("set_state: not a valid generator state (mt19937's left, next or state out of range)")
        with self.lock:
            self._seed = seed
            self._set_twister(np.array(key, dtype=np.uint32), _N + 1 - left)
            self._fresh = next_ == 0 and left == 1
            self.normal_cache = kept if kept_valid else None
        return self

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator()  # seeded from the operating system at start, as PyTorch's
default_generator.seed()


def resolve(generator: Generator | None, where: str) -> Generator:
    """The generator to draw from: `generator`, or the default one for None; TypeError for anything else."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{where}: generator= must be a glassgrad.Generator, got {type(generator).__name__}")
    return generator


def generator_for(seed: int | Generator | None, where: str) -> Generator:
    """The generator a model initialises from: a new one started from an integer `seed`, a
    Generator itself, or the default generator for None."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return Generator().manual_seed(seed)
    if seed is not None and not isinstance(seed, Generator):
        raise TypeError(f"{where}: seed= is an integer, a glassgrad.Generator or None, got {type(seed).__name__}")
    return resolve(seed, where)


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (the numbers drawn without `generator=`); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Reseed the default generator from the operating system's randomness; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last started from."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state (PyTorch's bytes), for `set_rng_state`."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the default generator's state from `get_rng_state()`."""
    default_generator.set_state(new_state)
