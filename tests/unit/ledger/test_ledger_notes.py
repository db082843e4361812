"""Keys, signed notes, checkpoints and witness cosignatures (C2SP formats)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resguardo.ledger import (
    SIG_TYPE_COSIGNATURE,
    Checkpoint,
    CheckpointError,
    MerkleTree,
    NoteError,
    Signer,
    Verifier,
    add_signatures,
    cosign,
    cosignature_message,
    generate_signer,
    leaf_hash,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_cosignature,
    verify_cosignatures,
)

# The example key and note from golang.org/x/mod/sumdb/note's documentation.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# A native cosignature (type 0x04) verifier key, from transparency-dev/formats' tests.
COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"

ROOT = leaf_hash(b"root")


@pytest.fixture(scope="module")
def log_key() -> Signer:
    return generate_signer("resguardo.example/log")


@pytest.fixture(scope="module")
def witness_key() -> Signer:
    return generate_signer("witness.example/w1", SIG_TYPE_COSIGNATURE)


# --- Keys ----------------------------------------------------------------------------------


def test_the_go_reference_keys_parse_and_their_key_hash_matches() -> None:
    signer = Signer.from_key_string(GO_SKEY)
    assert signer.key_hash == 0xC74F20A3
    assert signer.vkey() == GO_VKEY
    assert signer.to_key_string() == GO_SKEY
    assert Verifier.from_vkey(GO_VKEY) == signer.verifier()


def test_a_cosignature_key_hash_uses_signature_type_0x04() -> None:
    verifier = Verifier.from_vkey(COSIGNER_VKEY)
    assert verifier.sig_type == SIG_TYPE_COSIGNATURE
    assert verifier.key_hash == 0xDA77ADE7
    assert verifier.vkey() == COSIGNER_VKEY


def test_generated_keys_round_trip_through_their_key_strings() -> None:
    for sig_type in (0x01, 0x04):
        signer = generate_signer("example.org/key", sig_type)
        again = Signer.from_key_string(signer.to_key_string())
        assert again.vkey() == signer.vkey()
        assert Verifier.from_vkey(signer.vkey()) == signer.verifier()


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "PeterNeumann+c74f20a3",  # no key
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown type
        "PeterNeumann+c74f20a3+not base64!",
    ],
)
def test_a_malformed_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(ValueError):
        Verifier.from_vkey(vkey)


def test_a_signer_key_whose_hash_does_not_match_is_refused() -> None:
    with pytest.raises(ValueError):
        Signer.from_key_string(GO_SKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(ValueError):
        Signer.from_key_string(GO_SKEY.replace("PRIVATE+KEY", "PRIVATE+KEX"))


def test_a_key_name_with_a_plus_or_a_space_is_refused() -> None:
    for name in ("a+b", "a b", "", "a\u00a0b"):
        with pytest.raises(ValueError):
            generate_signer(name)


# --- Signed notes ----------------------------------------------------------------------------


def test_signing_the_go_example_reproduces_the_go_note_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, [Signer.from_key_string(GO_SKEY)]) == GO_NOTE


def test_the_go_example_note_opens_with_the_go_verifier_key() -> None:
    assert open_note(GO_NOTE, [Verifier.from_vkey(GO_VKEY)]) == (GO_TEXT, ["PeterNeumann"])
    assert open_note(GO_NOTE.encode(), [Verifier.from_vkey(GO_VKEY)])[0] == GO_TEXT


def test_a_note_changed_after_signing_is_rejected() -> None:
    with pytest.raises(NoteError):
        open_note(GO_NOTE.replace("problem", "solution", 1), [Verifier.from_vkey(GO_VKEY)])


def test_a_note_signed_only_by_unknown_keys_is_rejected(log_key: Signer) -> None:
    with pytest.raises(NoteError):
        open_note(GO_NOTE, [log_key.verifier()])


def test_signatures_by_unknown_keys_are_ignored_when_a_known_key_signed(log_key: Signer) -> None:
    note = sign_note(GO_TEXT, [generate_signer("stranger"), log_key])
    assert open_note(note, [log_key.verifier()]) == (GO_TEXT, [log_key.name])


def test_a_bad_signature_from_a_known_key_rejects_the_whole_note(log_key: Signer) -> None:
    good = sign_note(GO_TEXT, [log_key]).splitlines(keepends=True)[-1]
    other = sign_note("other\n", [log_key]).splitlines(keepends=True)[-1]
    with pytest.raises(NoteError):
        open_note(GO_NOTE + other, [log_key.verifier(), Verifier.from_vkey(GO_VKEY)])
    assert open_note(GO_NOTE + good, [log_key.verifier()])[1] == [log_key.name]


def test_the_text_ends_at_the_last_blank_line(log_key: Signer) -> None:
    text = "first paragraph\n\nsecond paragraph\n"
    note = sign_note(text, [log_key])
    assert open_note(note, [log_key.verifier()])[0] == text


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,  # no signatures
        GO_NOTE.rstrip("\n"),  # last line not terminated
        GO_NOTE.replace("— ", "-- "),  # not an em dash
        GO_NOTE.replace("PeterNeumann x08", "PeterNeumann  x08"),  # empty signature
        GO_NOTE.replace("x08go/ZJ", "x08go/Z!"),  # not base64
        GO_TEXT + "\n— PeterNeumann AAAA\n",  # too short
        GO_NOTE.replace("If you", "If\tyou"),  # control character
        GO_TEXT + "\n" + "— a AAAAAAA=\n" * 101,  # too many signatures
    ],
)
def test_a_malformed_note_is_rejected(note: str) -> None:
    with pytest.raises(NoteError):
        open_note(note, [Verifier.from_vkey(GO_VKEY)])


def test_text_that_does_not_end_in_a_newline_cannot_be_signed(log_key: Signer) -> None:
    with pytest.raises(NoteError):
        sign_note("no newline", [log_key])


def test_a_cosignature_key_cannot_sign_or_open_a_plain_note(witness_key: Signer) -> None:
    with pytest.raises(ValueError):
        sign_note(GO_TEXT, [witness_key])
    with pytest.raises(ValueError):
        open_note(GO_NOTE, [witness_key.verifier()])


# --- Checkpoints ------------------------------------------------------------------------------


def test_a_checkpoint_body_is_origin_size_and_base64_root() -> None:
    checkpoint = Checkpoint(
        "example.com/behind-the-sofa",
        20852163,
        base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
    )
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert checkpoint.format() == body
    assert Checkpoint.parse(body) == checkpoint


@given(
    origin=st.text(st.characters(min_codepoint=0x21, exclude_characters="\n"), min_size=1),
    size=st.integers(0, 2**64),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(st.characters(min_codepoint=0x20), min_size=1).filter(lambda s: "\n" not in s),
        max_size=3,
    ),
)
def test_checkpoints_round_trip_through_their_body(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.format()) == checkpoint


@pytest.mark.parametrize(
    "body",
    [
        "origin\n12\n",
        "origin\n012\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n12\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "origin\n12\n" + base64.b64encode(ROOT).decode(),
        "origin\n12\n" + base64.b64encode(ROOT).decode() + "\n\n",
        "\n12\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n1 2\n" + base64.b64encode(ROOT).decode() + "\n",
    ],
)
def test_a_malformed_checkpoint_body_is_refused(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_a_signed_checkpoint_verifies_with_the_log_key_only(log_key: Signer) -> None:
    tree = MerkleTree()
    tree.extend(leaf_hash(bytes([i])) for i in range(5))
    checkpoint = Checkpoint(log_key.name, tree.size, tree.root())
    note = sign_checkpoint(checkpoint, log_key)
    assert verify_checkpoint(note, log_key.verifier()) == checkpoint
    assert verify_checkpoint(note, log_key.verifier(), origin=log_key.name) == checkpoint
    with pytest.raises(NoteError):
        verify_checkpoint(note, log_key.verifier(), origin="another/log")
    with pytest.raises(NoteError):
        verify_checkpoint(note, generate_signer(log_key.name).verifier())
    with pytest.raises(NoteError):
        verify_checkpoint(note.replace("\n5\n", "\n6\n"), log_key.verifier())


def test_a_signed_note_that_is_not_a_checkpoint_is_refused(log_key: Signer) -> None:
    with pytest.raises(CheckpointError):
        verify_checkpoint(sign_note("just some text\n", [log_key]), log_key.verifier())


# --- Cosignatures -----------------------------------------------------------------------------


def test_the_cosigned_message_is_the_header_the_time_line_and_the_body() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_a_cosignature_line_carries_key_hash_timestamp_and_signature(witness_key: Signer) -> None:
    body = Checkpoint("log", 3, ROOT).format()
    line = cosign(body, witness_key, 1679315147)
    assert line.startswith(f"— {witness_key.name} ") and line.endswith("\n")
    blob = base64.b64decode(line.split(" ")[-1])
    assert len(blob) == 4 + 8 + 64
    assert int.from_bytes(blob[:4], "big") == witness_key.key_hash
    assert int.from_bytes(blob[4:12], "big") == 1679315147
    assert witness_key.verifier().verify(cosignature_message(body, 1679315147), blob[12:])
    assert verify_cosignature(body, line, witness_key.verifier()) == 1679315147


def test_a_cosignature_does_not_verify_for_another_checkpoint(witness_key: Signer) -> None:
    line = cosign(Checkpoint("log", 3, ROOT).format(), witness_key, 100)
    with pytest.raises(NoteError):
        verify_cosignature(Checkpoint("log", 4, ROOT).format(), line, witness_key.verifier())


def test_a_cosignature_with_an_altered_timestamp_is_rejected(witness_key: Signer) -> None:
    body = Checkpoint("log", 3, ROOT).format()
    blob = bytearray(base64.b64decode(cosign(body, witness_key, 100).split(" ")[-1]))
    blob[11] ^= 1
    forged = f"— {witness_key.name} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(NoteError):
        verify_cosignature(body, forged, witness_key.verifier())


def test_cosignatures_added_to_a_checkpoint_keep_the_log_signature_valid(
    log_key: Signer, witness_key: Signer
) -> None:
    checkpoint = Checkpoint(log_key.name, 9, ROOT)
    note = sign_checkpoint(checkpoint, log_key)
    second = generate_signer("witness.example/w2", SIG_TYPE_COSIGNATURE)
    lines = [
        cosign(checkpoint.format(), witness_key, 1000),
        cosign(checkpoint.format(), second, 2000),
    ]
    cosigned = add_signatures(note, [*lines, lines[0]])
    assert len(parse_note(cosigned)[1]) == 3
    assert verify_checkpoint(cosigned, log_key.verifier()) == checkpoint
    witnesses = [witness_key.verifier(), second.verifier()]
    assert verify_cosignatures(cosigned, witnesses) == {witness_key.name: 1000, second.name: 2000}
    assert verify_cosignatures(note, witnesses) == {}


def test_a_forged_cosignature_by_a_known_witness_rejects_the_note(
    log_key: Signer, witness_key: Signer
) -> None:
    checkpoint = Checkpoint(log_key.name, 9, ROOT)
    wrong = cosign(Checkpoint(log_key.name, 10, ROOT).format(), witness_key, 1000)
    cosigned = add_signatures(sign_checkpoint(checkpoint, log_key), [wrong])
    with pytest.raises(NoteError):
        verify_cosignatures(cosigned, [witness_key.verifier()])


def test_only_cosignature_keys_cosign(log_key: Signer) -> None:
    with pytest.raises(ValueError):
        cosign(Checkpoint("log", 1, ROOT).format(), log_key, 1)
    with pytest.raises(ValueError):
        verify_cosignatures(GO_NOTE, [log_key.verifier()])


def test_cosigning_something_that_is_not_a_checkpoint_body_is_refused(witness_key: Signer) -> None:
    with pytest.raises(CheckpointError):
        cosign(GO_TEXT, witness_key, 1)
    with pytest.raises(ValueError):
        cosign(Checkpoint("log", 1, ROOT).format(), witness_key, -1)
