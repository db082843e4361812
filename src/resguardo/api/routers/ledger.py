"""The tamper-evident log: signed checkpoints, inclusion and consistency proofs, entries.

Checkpoints and consistency proofs count the log's entries: they are for the oversight
roles (`ledger.read`), who keep copies. Any signed-in reader may check an entry they
may see against the latest checkpoint with an inclusion proof.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from resguardo.api.dependencies import Reader, Writer
from resguardo.api.routing import MAX_ID, needs, router
from resguardo.api.schemas.oversight import (
    CheckpointOut,
    ConsistencyOut,
    CosignatureIn,
    InclusionOut,
    LedgerEntryOut,
    SignedCheckpointOut,
)
from resguardo.domain.errors import NotFound, ValidationFailed
from resguardo.domain.policy import Action
from resguardo.services import ledger as service
from resguardo.services import ledger_proofs

ledger = router("/ledger", "ledger")

CheckpointId = Annotated[int, Path(ge=1, le=MAX_ID, description="Checkpoint id.")]
Size = Annotated[int, Query(ge=0, le=MAX_ID)]
MAX_ENTRIES = 2000


@ledger.get("/checkpoint", response_model=CheckpointOut,
            openapi_extra=needs(Action.LEDGER_READ))
def latest_checkpoint(caller: Reader) -> CheckpointOut:
    """The newest signed checkpoint (C2SP signed note) with its witness cosignatures."""
    with caller.read(may_lag=True) as uow:
        uow.wait_until_durable()
        return CheckpointOut.model_validate(ledger_proofs.cosigned(uow).as_dict())


@ledger.get("/checkpoints/{checkpoint_id}", response_model=CheckpointOut,
            openapi_extra=needs(Action.LEDGER_READ))
def get_checkpoint(checkpoint_id: CheckpointId, caller: Reader) -> CheckpointOut:
    with caller.read(may_lag=True) as uow:
        uow.wait_until_durable()
        return CheckpointOut.model_validate(ledger_proofs.cosigned(uow, checkpoint_id).as_dict())


@ledger.post("/checkpoints", response_model=SignedCheckpointOut, status_code=201,
             openapi_extra=needs(Action.LEDGER_VERIFY))
def sign_checkpoint(caller: Writer) -> object:
    """Sign a checkpoint of the log as it stands (or answer the latest if it covers it all)."""
    key = service.LedgerKey.of(caller.app.settings)
    return caller.write(lambda uow: service.checkpoint(uow, key),
                        lambda uow, stored: SignedCheckpointOut.model_validate(
                            service.checkpoint_dict(stored)))


@ledger.post("/checkpoints/{checkpoint_id}/cosignatures", response_model=CheckpointOut,
             status_code=201, openapi_extra=needs(Action.LEDGER_VERIFY))
def add_cosignature(checkpoint_id: CheckpointId, body: CosignatureIn, caller: Writer) -> object:
    """Keep a witness's cosignature of a checkpoint, once it verifies."""
    def run(uow):  # type: ignore[no-untyped-def]
        ledger_proofs.cosign(uow, checkpoint_id, body.line, body.witness_vkey)
        return ledger_proofs.cosigned(uow, checkpoint_id)
    return caller.write(run, lambda uow, c: CheckpointOut.model_validate(c.as_dict()), body=body)


@ledger.get("/proofs/inclusion", response_model=InclusionOut, openapi_extra=needs(Action.READ))
def inclusion_proof(caller: Reader,
                    index: Annotated[int | None, Query(ge=0, le=MAX_ID,
                                                       description="Entry index.")] = None,
                    serial: Annotated[str | None, Query(
                        min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$",
                        description="Or: a firearm's serial (its registration entry).")] = None,
                    make: Annotated[str | None, Query(min_length=1, max_length=60,
                                                      pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
                    ) -> InclusionOut:
    """Proof that an entry you may see is in the tree the latest checkpoint signs."""
    with caller.read(may_lag=True) as uow:
        try:
            proof = ledger_proofs.prove(uow, index=index, serial=serial, make=make)
        except NotFound:
            raise NotFound("entry not found" if index is not None
                           else "firearm not found") from None
        return InclusionOut.model_validate(proof.as_dict())


@ledger.get("/proofs/consistency", response_model=ConsistencyOut,
            openapi_extra=needs(Action.LEDGER_READ))
def consistency_proof(caller: Reader, old: Size,
                      new: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None
                      ) -> ConsistencyOut:
    """Proof that the tree of size `new` (default: the latest checkpoint) extends size `old`."""
    with caller.read(may_lag=True) as uow:
        return ConsistencyOut.model_validate(ledger_proofs.consistency(uow, old, new).as_dict())


@ledger.get("/entries", response_model=list[LedgerEntryOut],
            openapi_extra=needs(Action.LEDGER_VERIFY))
def ledger_entries(caller: Reader, start: Size, stop: Size) -> list[LedgerEntryOut]:
    """Entries start..stop-1 with their leaves, to rehash independently (at most 2000).

    Entries outside your scope come as their leaf hash only, which is all a root needs.
    """
    if stop - start > MAX_ENTRIES:
        raise ValidationFailed(f"ask for at most {MAX_ENTRIES} entries at a time", field="stop")
    with caller.read(may_lag=True) as uow:
        return [LedgerEntryOut.model_validate(item)
                for item in ledger_proofs.export_events(uow, start, stop)]
