"""Proposals without a Git host: /v1/proposals (writers propose, reviewers merge or close), with diff and impact."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

from api.deps import KnowledgeBaseDep, PrincipalDep
from api.schemas import FileDiffOut
from kb.access import PUBLIC, REVIEWER_ROLES, STAFF_ROLES, WRITER_ROLES, Principal, Role
from kb.core import Line, Prose
from kb.writing import (
    ProposalDetail,
    ProposalRecord,
    close_proposal,
    create_proposal,
    impact,
    list_proposals,
    merge_proposal,
    proposal_detail,
)

router = APIRouter(prefix="/v1/proposals", tags=["proposals"])
ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="As listed by GET /v1/proposals.")]
"""Bounded by the id column (a 32-bit INTEGER on PostgreSQL): a larger id is a 422, not a failed query."""


class FileChange(BaseModel):
    path: Line = Field(description="Article path in the repository, e.g. en/account/reset-password.md.")
    content: Prose | None = Field(description="The whole new file; null deletes it.")


class ProposalIn(BaseModel):
    title: Line = Field(max_length=200)
    message: Prose = Field(default="", max_length=10_000, description="Why; becomes the commit message's body.")
    base: Line | None = Field(default=None, description="Branch to propose against; the served branch by default.")
    files: list[FileChange]

    @field_validator("files")
    @classmethod
    def _each_path_once(cls, files: list[FileChange]) -> list[FileChange]:
        """A path listed twice would let the last entry silently win over the first."""
        first: dict[str, int] = {}
        for number, change in enumerate(files):
            if change.path in first:
                raise PydanticCustomError(
                    "duplicate_path", "{path} is listed twice (files {first} and {second}); send each file once",
                    {"path": repr(change.path), "first": first[change.path], "second": number},
                )
            first[change.path] = number
        return files


class ProposalOut(BaseModel):
    id: int
    title: str
    author: str
    status: str = Field(description="open, merged or closed.")
    base: str
    base_commit: str
    branch: str
    head_commit: str
    merged_commit: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, record: ProposalRecord) -> ProposalOut:
        return cls.model_validate(record.model_dump())


class ProblemOut(BaseModel):
    path: str
    field: str
    reason: str


class ProposalDetailOut(ProposalOut):
    diffs: list[FileDiffOut] = Field(description="One per changed file, against the proposal's base.")
    problems: list[ProblemOut] = Field(description="Validation of the proposed articles; merging needs none.")

    @classmethod
    def of_detail(cls, detail: ProposalDetail) -> ProposalDetailOut:
        record = detail.record
        return cls(
            **ProposalOut.of(record).model_dump(),
            diffs=[FileDiffOut.of(diff) for diff in detail.diffs],
            problems=[ProblemOut(path=p.path, field=p.field, reason=p.reason) for p in detail.problems],
        )


def require(principal: Principal, roles: tuple[Role, ...], action: str) -> None:
    if principal.kind not in roles:
        raise HTTPException(403, f"{action} needs a {' or '.join(roles)} API key")


@router.post("", status_code=201, response_model=ProposalOut)
async def propose(kb: KnowledgeBaseDep, principal: PrincipalDep, body: ProposalIn) -> ProposalOut:
    """A branch with one commit writing (or deleting) the given article files on top of the base."""
    require(principal, WRITER_ROLES, "proposing a change")
    files = {change.path: change.content for change in body.files}
    record = await run_in_threadpool(create_proposal, kb, title=body.title, files=files,
                                     author=principal.name or principal.kind, base=body.base, message=body.message)
    return ProposalOut.of(record)


@router.get("", response_model=list[ProposalOut])
async def proposals(
    kb: KnowledgeBaseDep, principal: PrincipalDep, status: Literal["open", "merged", "closed"] | None = None
) -> list[ProposalOut]:
    require(principal, STAFF_ROLES, "listing proposals")
    return [ProposalOut.of(record) for record in await run_in_threadpool(list_proposals, kb, status=status)]


@router.get("/{proposal_id}", response_model=ProposalDetailOut)
async def proposal(kb: KnowledgeBaseDep, principal: PrincipalDep, proposal_id: ProposalId) -> ProposalDetailOut:
    """The proposal with a diff per file and the validation of every proposed article."""
    require(principal, STAFF_ROLES, "reading proposals")
    return ProposalDetailOut.of_detail(await run_in_threadpool(proposal_detail, kb, proposal_id))


@router.post("/{proposal_id}/merge", response_model=ProposalOut)
async def merge(kb: KnowledgeBaseDep, principal: PrincipalDep, proposal_id: ProposalId) -> ProposalOut:
    """Fast-forward or merge commit into the base; a conflict is a 409 and both branches stay as they were."""
    require(principal, REVIEWER_ROLES, "merging a proposal")
    record = await run_in_threadpool(merge_proposal, kb, proposal_id, reviewer=principal.name or principal.kind)
    return ProposalOut.of(record)


@router.post("/{proposal_id}/close", response_model=ProposalOut)
async def close(kb: KnowledgeBaseDep, principal: PrincipalDep, proposal_id: ProposalId) -> ProposalOut:
    require(principal, WRITER_ROLES, "closing a proposal")
    return ProposalOut.of(await run_in_threadpool(close_proposal, kb, proposal_id))


@router.get("/{proposal_id}/impact")
async def proposal_impact(kb: KnowledgeBaseDep, principal: PrincipalDep, proposal_id: ProposalId) -> dict:
    """`kb impact` for the proposal: golden queries at its base and at its head, as customers would search."""
    require(principal, STAFF_ROLES, "reading a proposal's impact")
    detail = await run_in_threadpool(proposal_detail, kb, proposal_id)
    report = await run_in_threadpool(impact, kb, detail.record.base_commit, detail.record.head_commit, view=PUBLIC)
    return report.as_dict() | {"markdown": report.markdown()}
