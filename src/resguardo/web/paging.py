"""Pagination, sorting links and form values shared by the list pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from resguardo.domain.errors import T_, ValidationFailed
from resguardo.web.i18n import timezone

PER_PAGE = 50


#: The highest page number a list accepts (beyond it, the offset would not fit SQL's integers).
MAX_PAGE = 1_000_000


def page_number(params: QueryParams) -> int:
    raw = params.get("page", "1")
    return min(max(1, int(raw)), MAX_PAGE) if raw.isdigit() and len(raw) <= 9 else 1


@dataclass(frozen=True)
class Pager:
    total: int
    page: int
    per_page: int
    params: dict[str, str]
    path: str

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.per_page - 1) // self.per_page)

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    def url(self, page: int) -> str:
        values = {k: v for k, v in self.params.items() if v and k != "page"}
        if page > 1:
            values["page"] = str(page)
        return self.path + ("?" + urlencode(values) if values else "")

    def sort_url(self, column: str) -> str:
        """The list sorted by ``column``; the current column flips direction."""
        values = {k: v for k, v in self.params.items() if v and k not in ("page", "sort")}
        current = self.params.get("sort", "")
        values["sort"] = f"-{column}" if current == column else column
        return self.path + "?" + urlencode(values)

    def sorted_by(self, column: str) -> str | None:
        current = self.params.get("sort", "")
        if current == column:
            return "ascending"
        if current == f"-{column}":
            return "descending"
        return None


def clean_params(params: QueryParams, names: tuple[str, ...]) -> dict[str, str]:
    return {name: params.get(name, "").strip()[:100] for name in names}


def parse_day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(T_("%(field)s must be a date"), field=field) from None


def parse_local_instant(value: str, field: str) -> datetime | None:
    """A ``datetime-local`` input, read in the deployment's time zone."""
    if not value:
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(T_("%(field)s must be a date and time"), field=field) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=timezone())
    return local
