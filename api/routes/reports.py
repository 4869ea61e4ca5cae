"""GET /v1/reports/{name}: what readers looked for and did not find, which articles failed them, how bots and
agents fared — for staff keys, over a date range, per locale and surface (`kb/analytics/reports.py`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.deps import KnowledgeBaseDep, PrincipalDep
from kb.access import STAFF_ROLES
from kb.analytics import MAX_LIMIT, REPORTS, Period, run_report
from kb.core import Line

router = APIRouter(prefix="/v1", tags=["analytics"])


class ColumnOut(BaseModel):
    key: str
    label: str
    kind: str = Field(description="text, count, rate (0 to 1, null where nothing was counted) or date")


class ReportOut(BaseModel):
    report: str
    title: str
    since: dt.date
    until: dt.date
    locale: str | None
    surface: str | None
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


class ReportListOut(BaseModel):
    reports: list[str]


@router.get("/reports", response_model=ReportListOut)
def list_reports(principal: PrincipalDep) -> ReportListOut:
    """The reports there are, by name."""
    _staff_only(principal.kind)
    return ReportListOut(reports=list(REPORTS))


@router.get("/reports/{name}", response_model=ReportOut)
def get_report(
    kb: KnowledgeBaseDep,
    principal: PrincipalDep,
    name: Line,
    since: Annotated[dt.date | None, Query(description="First day (UTC), included; 29 days before `until` by default.")] = None,
    until: Annotated[dt.date | None, Query(description="Last day (UTC), included; today by default.")] = None,
    locale: Line | None = None,
    surface: Annotated[Line | None, Query(description="site, widget, api, bot or agent; every surface when absent.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows of a ranked report.")] = 20,
) -> ReportOut:
    """One report; 404 for a name there is none of, 422 naming a bad parameter."""
    _staff_only(principal.kind)
    if name not in REPORTS:
        raise HTTPException(404, f"no report {name!r}; there are {', '.join(REPORTS)}")
    period = Period.checked(since=since, until=until, locale=locale, surface=surface)
    return ReportOut.model_validate(run_report(kb.engine, name, period, limit=limit).as_dict())


def _staff_only(kind: str) -> None:
    if kind not in STAFF_ROLES:
        raise HTTPException(403, "reports are for staff: they need an agent, writer, reviewer or admin API key")
