"""Conformance: every RFC 6962/9162 proof vector from transparency-dev/merkle."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from resguardo.ledger import (
    ProofError,
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# <repo>/../shared/testdata/rfc6962, wherever the repository is cloned.
TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "rfc6962"

# The leaves of the reference tree the vectors were generated from (transparency-dev/merkle).
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
REFERENCE_HASHES = [leaf_hash(leaf) for leaf in REFERENCE_LEAVES]


def _vectors(kind: str) -> list[Any]:
    if not TESTDATA.is_dir():
        return []
    return [
        pytest.param(path, id=str(path.relative_to(TESTDATA)))
        for path in sorted((TESTDATA / kind).rglob("*.json"))
    ]


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in vector["proof"] or []]


def test_the_conformance_vectors_are_present() -> None:
    if not TESTDATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance vectors missing: {TESTDATA}")
        pytest.skip(f"conformance vectors not found at {TESTDATA}")
    assert len(_vectors("inclusion")) >= 60
    assert len(_vectors("consistency")) >= 90


@pytest.mark.parametrize("path", _vectors("inclusion"))
def test_each_inclusion_vector_verifies_or_is_rejected_as_expected(path: Path) -> None:
    v = _load(path)
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), _proof(v), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _vectors("consistency"))
def test_each_consistency_vector_verifies_or_is_rejected_as_expected(path: Path) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _proof(v), _b64(v["root1"]), _b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _happy(kind: str) -> list[Any]:
    return [p for p in _vectors(kind) if p.values[0].name == "happy-path.json"]


@pytest.mark.parametrize("path", _happy("inclusion"))
def test_generated_inclusion_proofs_equal_the_reference_proofs(path: Path) -> None:
    v = _load(path)
    leaves = REFERENCE_HASHES[: v["treeSize"]]
    assert root_hash(leaves) == _b64(v["root"])
    assert inclusion_proof_from_leaves(v["leafIdx"], leaves) == _proof(v)


@pytest.mark.parametrize("path", _happy("consistency"))
def test_generated_consistency_proofs_equal_the_reference_proofs(path: Path) -> None:
    v = _load(path)
    leaves = REFERENCE_HASHES[: v["size2"]]
    assert root_hash(leaves) == _b64(v["root2"])
    assert root_hash(leaves[: v["size1"]]) == _b64(v["root1"])
    assert consistency_proof_from_leaves(v["size1"], leaves) == _proof(v)
