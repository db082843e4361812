"""Resguardo's tamper-evident ledger as a small self-contained library.

Every event is a leaf of one append-only Merkle log: the leaf is the event's RFC 8785
canonical JSON (`canonical_json`), hashed as in RFC 9162 (`leaf_hash`, `node_hash`).
The tree is kept as complete-subtree hashes in a `NodeStore`, so appends, roots and
proofs each touch O(log n) nodes (`append_leaves`, `tree_root`, `inclusion_proof`,
`consistency_proof`; the `*_node_keys` functions say which nodes to fetch in one query).
Proofs verify with `verify_inclusion` and `verify_consistency`, which raise `ProofError`.
The log's state is published as a C2SP tlog-checkpoint inside a C2SP signed note
(`sign_checkpoint`, `verify_checkpoint`), which witnesses cosign (`cosign`,
`verify_cosignatures`); notes that fail raise `NoteError`.

Only the standard library and `cryptography` are used, so the same hashes and checks
can be reproduced independently of the rest of Resguardo.
"""

from .checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from .cosignature import cosign, cosignature_message, verify_cosignature, verify_cosignatures
from .errors import CheckpointError, LedgerError, MissingNodeError, NoteError, ProofError
from .hashing import EMPTY_ROOT, HASH_SIZE, LEAF_PREFIX, leaf_hash, node_hash
from .jcs import canonical_json
from .keys import (
    SIG_TYPE_COSIGNATURE,
    SIG_TYPE_ED25519,
    Signer,
    Verifier,
    generate_signer,
    key_hash,
)
from .note import (
    NoteSignature,
    add_signatures,
    open_note,
    parse_note,
    sign_note,
)
from .proofs import verify_consistency, verify_inclusion
from .store import MemoryNodeStore, Node, NodeKey, NodeReader, NodeStore
from .tree import (
    MerkleTree,
    append_leaf,
    append_leaves,
    consistency_proof,
    consistency_proof_from_leaves,
    consistency_proof_node_keys,
    extend_frontier,
    inclusion_proof,
    inclusion_proof_from_leaves,
    inclusion_proof_node_keys,
    root_hash,
    root_node_keys,
    tree_root,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "SIG_TYPE_COSIGNATURE",
    "SIG_TYPE_ED25519",
    "Checkpoint",
    "CheckpointError",
    "LedgerError",
    "MemoryNodeStore",
    "MerkleTree",
    "MissingNodeError",
    "Node",
    "NodeKey",
    "NodeReader",
    "NodeStore",
    "NoteError",
    "NoteSignature",
    "ProofError",
    "Signer",
    "Verifier",
    "add_signatures",
    "append_leaf",
    "append_leaves",
    "canonical_json",
    "consistency_proof",
    "consistency_proof_from_leaves",
    "consistency_proof_node_keys",
    "extend_frontier",
    "cosign",
    "cosignature_message",
    "generate_signer",
    "inclusion_proof",
    "inclusion_proof_from_leaves",
    "inclusion_proof_node_keys",
    "key_hash",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_note",
    "root_hash",
    "root_node_keys",
    "sign_checkpoint",
    "sign_note",
    "tree_root",
    "verify_checkpoint",
    "verify_consistency",
    "verify_cosignature",
    "verify_cosignatures",
    "verify_inclusion",
]
