"""The names the makemore examples learn from, and the datasets the lectures build from them.

The list is the US Census 1990 first names (female and male) that the `names` package on PyPI
ships (MIT licence, https://github.com/treyhunner/names): about 5,000 distinct names, lower-cased.
"""

from __future__ import annotations

import random
from importlib import resources

CHARS = "abcdefghijklmnopqrstuvwxyz"
stoi = {s: i + 1 for i, s in enumerate(CHARS)}
stoi["."] = 0  # the token that starts and ends every name
itos = {i: s for s, i in stoi.items()}
VOCAB_SIZE = len(itos)


def load_words() -> list[str]:
    """Every first name of the census lists, lower-cased, each once, in a fixed shuffled order."""
    words: set[str] = set()
    for file in ("dist.female.first", "dist.male.first"):
        for line in resources.files("names").joinpath(file).read_text().splitlines():
            if line.strip():
                words.add(line.split()[0].lower())
    ordered = sorted(words)
    random.Random(42).shuffle(ordered)
    return ordered


def build_dataset(words: list[str], block_size: int) -> tuple[list[list[int]], list[int]]:
    """(contexts, next characters): each character of each name with the `block_size` before it."""
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return X, Y


def splits(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """80% training, 10% development, 10% test names."""
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return words[:n1], words[n1:n2], words[n2:]
