"""The ledger page tells the auditor how many witness cosignatures the latest checkpoint
has against the quorum, and explains a witness's refusal in their language."""

from __future__ import annotations

import dataclasses
import time

from web_support import Browser

from resguardo.ledger import SIG_TYPE_COSIGNATURE, cosign, generate_signer, parse_note
from resguardo.ledger.witnesses import Answer, Witness, WitnessList
from resguardo.services import witnessing

from world import build_world


def test_the_ledger_page_counts_cosignatures_against_the_quorum(sqlite_url, clock, tmp_path):
    sqlite_world = build_world(sqlite_url, clock, tmp_path)  # with its own signing key
    w1 = generate_signer("zm15.example.mx/testigo", SIG_TYPE_COSIGNATURE)
    w2 = generate_signer("auditoria.example.mx/testigo", SIG_TYPE_COSIGNATURE)
    sqlite_world.settings = dataclasses.replace(sqlite_world.settings, witnesses=WitnessList(
        (Witness("http://w1.invalid", w1.verifier()), Witness("http://w2.invalid",
                                                              w2.verifier())), 2))

    def transport(url: str, body: bytes) -> Answer:
        """A spec-following witness in this process: w1 cosigns, w2 refuses a fork."""
        note = body.decode().split("\n\n", 1)[1]
        if url == "http://w1.invalid":
            return Answer(200, "text/plain", cosign(parse_note(note)[0], w1, int(time.time())))
        return Answer(422, "text/plain", "the log has forked\n")

    published = witnessing.publish(sqlite_world, transport=transport)
    assert [r.outcome for r in published.results] == ["cosigned", "refused"]
    auditor = Browser(sqlite_world)
    assert auditor.sign_in("auditor").status_code == 200
    page = auditor.get("/ledger").text
    assert "Cofirmas de testigos" in page
    assert "1 de las 2 requeridas" in page and 'data-quorum="missing"' in page
    assert "zm15.example.mx/testigo" in page
    report = auditor.post("/ledger/verify", page="/ledger")
    assert report.status_code == 409
    assert "Un testigo rechazó la bitácora" in report.text
