"""Field types and shapes every resource shares: text limits, pages, events."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

#: No control characters (the log stores text as typed; a NUL breaks PostgreSQL).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def _encodable(value: str) -> str:
    # JSON can carry lone surrogates ("\ud800"); no database can store them.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text contains an invalid character") from None
    return value


_Encodable = AfterValidator(_encodable)

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN),
                 Field(description="An organization or location code.")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE),
                 _Encodable]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=PRINTABLE),
                   _Encodable]
Serial = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=PRINTABLE),
                   _Encodable]
Badge = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=PRINTABLE),
                  _Encodable]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE),
                _Encodable]
Quantity = Annotated[int, Field(ge=1, le=1_000_000_000)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total number of matching rows."""

    items: list[T]
    total: int = Field(description="Rows matching the filters, over all pages.")
    offset: int
    limit: int


class EventOut(BaseModel):
    """One recorded entry of the log (what a write appended)."""

    position: int = Field(description="Position in the log; also the id of what it created.")
    type: str
    at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SS.ffffffZ.")
    actor: str
    actor_id: int | None
    org_id: int | None
    subject_type: str | None
    subject_id: int | None
    corrects: int | None
    reason: str | None
    request_id: str | None
    payload: dict[str, Any]
    secret: str | None = Field(None, description=(
        "The entry's random secret, committed in its ledger leaf (none for entries written "
        "before secrets existed): with it, the leaf is recomputed from this entry."))


class Strict(BaseModel):
    """Request bodies: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")
