"""Hostile model files: every one is refused with a ValueError naming the problem, before any array data
is read, in bounded time and memory (measured with tracemalloc, and once for real under RLIMIT_AS)."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import glassgrad
from glassgrad.io import serialization, tensor_serialization
from glassgrad.nn import MLP as ScalarMLP
from glassgrad.nn import Linear
from glassgrad.nn import TensorMLP as MLP

PEAK_LIMIT = 8 << 20  # bytes a refusal may allocate: far less than any payload below


def npy(shape: tuple, descr: str = "<f8", data: bytes = b"", fortran: bool = False) -> bytes:
    """A .npy file's bytes whose header says `shape` and `descr`, followed by `data` (maybe not that much)."""
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return f.getvalue() + data


def members(tmp_path: Path) -> dict[str, bytes]:
    """The entries of a genuine tensor model file: header.npy, 0.weight.npy (3, 2), 0.bias.npy, 2.weight.npy ..."""
    path = glassgrad.save(MLP(2, [3, 1], seed=0, dtype=np.float64), tmp_path / "good.npz")
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def header_doc(entries: dict[str, bytes]) -> dict:
    return json.loads(str(np.load(io.BytesIO(entries["header.npy"]))))


def with_header(entries: dict[str, bytes], doc: dict) -> dict[str, bytes]:
    f = io.BytesIO()
    np.save(f, np.array(json.dumps(doc)))
    return {**entries, "header.npy": f.getvalue()}


def write_zip(path: Path, entries: dict[str, bytes], zeros: tuple[str, bytes, int] | None = None) -> Path:
    """An archive of `entries`; `zeros` = (name, npy header, n) adds a member of that header and n zero bytes,
    streamed so the test itself never holds them."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if zeros is not None:
            name, head, n = zeros
            with z.open(name, "w", force_zip64=True) as f:
                f.write(head)
                chunk = bytes(1 << 20)
                for start in range(0, n, len(chunk)):
                    f.write(chunk[: n - start])
    return path


def refused(path: Path, *needles: str) -> str:
    """Load `path`: it must raise ValueError mentioning each needle while allocating under PEAK_LIMIT."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            glassgrad.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith(str(path)), message
    for needle in needles:
        assert needle in message, message
    assert peak < PEAK_LIMIT, f"refusing {path.name} allocated {peak} bytes"
    return message


@pytest.mark.slow
def test_an_entry_the_header_does_not_mention_is_refused_before_it_is_decompressed(tmp_path):
    n = 64 << 20  # 64 MiB of zeros, 64 KiB on disk
    path = write_zip(tmp_path / "extra.npz", members(tmp_path), ("extra.npy", npy((n // 8,)), n))
    assert path.stat().st_size < 1 << 20
    refused(path, "'extra'", "not described by the header")


def test_an_npy_header_claiming_a_huge_shape_is_refused_without_allocating(tmp_path):
    entries = members(tmp_path)
    entries["0.weight.npy"] = npy((10**12,), data=bytes(48))
    refused(write_zip(tmp_path / "huge.npz", entries), "'0.weight'", "(1000000000000,)", "header says float64 (3, 2)")


def test_a_json_header_and_npy_header_agreeing_on_a_huge_shape_are_refused_by_the_size_limit(tmp_path):
    entries = members(tmp_path)
    doc = header_doc(entries)
    doc["layers"][0]["weight"]["shape"] = [10**6, 10**6]
    doc["layers"][0]["bias"]["shape"] = [10**6]
    entries = with_header(entries, doc)
    entries["0.weight.npy"] = npy((10**6, 10**6), data=bytes(48))
    entries["0.bias.npy"] = npy((10**6,), data=bytes(24))
    refused(write_zip(tmp_path / "agreeing.npz", entries), "'0.weight'", "limit")


def test_an_entry_larger_than_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(tensor_serialization, "MAX_ARCHIVE_BYTES", 1 << 20)
    n = 2 << 20
    entries = members(tmp_path)
    doc = header_doc(entries)
    doc["layers"][0]["weight"]["shape"] = [n // 16, 2]
    doc["layers"][0]["bias"]["shape"] = [n // 16]
    entries = with_header(entries, doc)
    del entries["0.weight.npy"]
    path = write_zip(tmp_path / "big.npz", entries, ("0.weight.npy", npy((n // 16, 2)), n))
    refused(path, "more than the limit of 1048576 bytes")


def test_the_data_size_must_be_what_the_npy_header_says(tmp_path):
    entries = members(tmp_path)
    entries["0.weight.npy"] = npy((3, 2), data=bytes(8 * 6 + 4000))
    refused(write_zip(tmp_path / "long.npz", entries), "'0.weight'", "bytes")
    entries["0.weight.npy"] = npy((3, 2), data=bytes(8 * 5))
    refused(write_zip(tmp_path / "short.npz", entries), "'0.weight'", "bytes")


def test_an_object_array_where_the_header_says_float64_is_refused_without_unpickling(tmp_path):
    entries = members(tmp_path)
    entries["0.weight.npy"] = npy((3, 2), descr="|O", data=b"\x80\x04K\x01.")
    refused(write_zip(tmp_path / "object.npz", entries), "'0.weight'", "object", "header says float64 (3, 2)")


def test_a_big_endian_array_is_refused_as_another_dtype(tmp_path):
    entries = members(tmp_path)
    entries["0.weight.npy"] = npy((3, 2), descr=">f8", data=bytes(48))
    refused(write_zip(tmp_path / "endian.npz", entries), "'0.weight'", "header says float64 (3, 2)")


def test_too_many_entries_are_refused_before_the_directory_is_read(tmp_path):
    entries = members(tmp_path)
    entries.update({f"x{i}.npy": b"" for i in range(5000)})
    refused(write_zip(tmp_path / "many.npz", entries), "5005 entries")


def test_an_entry_that_is_not_an_npy_array_is_named(tmp_path):
    entries = members(tmp_path)
    refused(write_zip(tmp_path / "notes.npz", {**entries, "notes.txt": b"hello"}), "'notes.txt'", ".npy")


@pytest.mark.parametrize(
    "head, needle",
    [
        (npy((10**9,), descr="<U10", data=bytes(40)), "no JSON string 'header' array (it is <U10 (1000000000,))"),
        (npy((), descr="<f8", data=bytes(8)), "no JSON string 'header' array (it is float64 ())"),
        (npy((), descr="<U100000000", data=bytes(40)), "limit"),
    ],
    ids=["a billion strings", "a number", "a 400 MB string"],
)
def test_a_header_entry_of_the_wrong_kind_or_size_is_refused_before_it_is_read(tmp_path, head, needle):
    entries = members(tmp_path)
    refused(write_zip(tmp_path / "header.npz", {**entries, "header.npy": head}), "'header'", needle)


@pytest.mark.parametrize(
    "field, value, needle",
    [
        ("version", True, "format version True"),
        ("version", 1.0, "format version 1.0"),
        ("model", [], "unknown model []"),
        ("model", {"a": 1}, "unknown model {'a': 1}"),
        ("format", ["glassgrad"], "not a glassgrad model file"),
        ("kind", ["tensor"], "model kind ['tensor']"),
        ("layers", {"0": 1}, "'layers' must be a list"),
    ],
)
def test_type_confused_tensor_header_fields_are_refused(tmp_path, field, value, needle):
    entries = members(tmp_path)
    doc = header_doc(entries)
    doc[field] = value
    refused(write_zip(tmp_path / "confused.npz", with_header(entries, doc)), needle)


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda d: d.update(version=True), "format version True"),
        (lambda d: d.update(version=1.0), "format version 1.0"),
        (lambda d: d.update(format=["glassgrad"]), "not a glassgrad model file"),
        (lambda d: d.update(kind=["scalar-mlp"]), "model kind ['scalar-mlp']"),
        (lambda d: d.update(nin=True), "'nin' must be a positive integer"),
        (lambda d: d["layers"][0].update(activation=["relu"]), "unknown activation ['relu']"),
        (lambda d: d["layers"][0].update(activation={"x": 1}), "unknown activation {'x': 1}"),
        (lambda d: d["layers"][0]["weights"][0].__setitem__(0, True), "expected a finite number, got True"),
        (lambda d: d["layers"][0]["weights"][0].__setitem__(0, "1.0"), "expected a finite number, got '1.0'"),
        (lambda d: d["layers"].__setitem__(0, ["relu"]), "needs 'activation', 'weights' and 'biases'"),
    ],
    ids=["version true", "version 1.0", "format list", "kind list", "nin true", "activation list",
         "activation dict", "weight true", "weight string", "layer list"],
)
def test_type_confused_scalar_fields_are_refused(tmp_path, edit, needle):
    path = glassgrad.save(ScalarMLP(2, [3, 1], seed=0), tmp_path / "m.json")
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    refused(path, needle)


def test_a_scalar_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = glassgrad.save(ScalarMLP(2, [3, 1], seed=0), tmp_path / "m.json")
    monkeypatch.setattr(serialization, "MAX_JSON_BYTES", 100)
    refused(path, f"{path.stat().st_size} bytes", "limit of 100 bytes")


def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "glassgrad", "layers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(path, "nested too deeply")


def test_a_fortran_ordered_weight_still_round_trips(tmp_path):
    model = Linear(3, 2, seed=0)
    model.weight.data = glassgrad.from_numpy(np.asfortranarray(model.weight.numpy()))
    assert model.weight.numpy().flags.f_contiguous
    loaded = glassgrad.load(glassgrad.save(model, tmp_path / "f.npz"))
    assert np.array_equal(loaded.weight.data, model.weight.data)


@pytest.mark.slow
def test_resuming_from_hostile_files_exits_2_in_bounded_time_and_memory(tmp_path):
    """The real command under a 1 GiB address-space limit: one line each, no traceback, no MemoryError."""
    entries = members(tmp_path)
    huge = dict(entries, **{"0.weight.npy": npy((10**12,), data=bytes(48))})
    files = [
        write_zip(tmp_path / "huge.npz", huge),
        write_zip(tmp_path / "extra.npz", entries, ("extra.npy", npy((4 << 20,)), 32 << 20)),
    ]
    script = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from glassgrad.apps.cli import main\n"
        "sys.exit(max(main(['train', 'moons', '--steps', '1', '--out', sys.argv[1], '--resume', f])"
        " for f in sys.argv[2:]))\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out"), *map(str, files)],
                            capture_output=True, text=True, timeout=60, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 2 and all(line.startswith("glassgrad train: error:") for line in lines), lines
    assert "(1000000000000,)" in lines[0] and "'extra'" in lines[1]
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert child.ru_maxrss < 1 << 20  # KiB: the child stayed under 1 GiB resident
