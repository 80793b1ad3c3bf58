"""HTTP endpoints of prescreening: a lender's prescreens and their firm-offer lists (/v1/prescreens), and the
person's opt-out from prescreened offers (/v1/me/prescreen-opt-out). Thin: parse, call ``prescreen``, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openbureau.api.deps import IdPath, PersonDep, PolicyDep, PrincipalDep, RuntimeDep, SessionDep
from openbureau.prescreen import optouts
from openbureau.prescreen import service as prescreen
from openbureau.prescreen.schemas import (
    FirmOfferList,
    OptOutCreate,
    OptOutRead,
    OptOutStatus,
    PrescreenCreate,
    PrescreenRead,
)

router = APIRouter(tags=["prescreening"])
PATH = "/prescreens"
OPT_OUT = "/me/prescreen-opt-out"


@router.post(PATH, response_model=PrescreenRead, status_code=201, summary="Run a prescreen",
             responses={403: {"description": "ROLE_REQUIRED, PRESCREEN_NOT_AVAILABLE (the profile allows none) or "
                                             "RECIPROCITY_REQUIRED"},
                        422: {"description": "The criteria: NO_CRITERIA, INVALID_SCORE_RANGE, SCORE_OUT_OF_SCALE, "
                                             "NO_RELEASED_MODEL, INVALID_REGION (every finding in details)"}})
def run(data: PrescreenCreate, runtime: RuntimeDep, policy: PolicyDep, principal: PrincipalDep) -> PrescreenRead:
    """Select the persons whose files meet your criteria, for the firm offer you state (FCRA §604(c)(1)(B)).
    Persons who opted out, froze their file or carry a fraud alert are never selected; each person selected
    has the prescreen on their file as a soft inquiry, which only they see."""
    return prescreen.run(runtime.engine, vault=runtime.vault, policy=policy, principal=principal, request=data)


@router.get(PATH, response_model=list[PrescreenRead], summary="Your prescreens, newest first")
def list_prescreens(session: SessionDep, principal: PrincipalDep,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[PrescreenRead]:
    """Your prescreens: criteria, offer and counts, never a person's data."""
    return prescreen.list_prescreens(session, principal=principal, limit=limit)


@router.get(PATH + "/{prescreen_id}", response_model=PrescreenRead, summary="A prescreen",
            responses={404: {"description": "PRESCREEN_NOT_FOUND: you have no prescreen with this id"}})
def read_prescreen(prescreen_id: IdPath, session: SessionDep, principal: PrincipalDep) -> PrescreenRead:
    """One of your prescreens."""
    return prescreen.get_prescreen(session, principal=principal, prescreen_id=prescreen_id)


@router.get(PATH + "/{prescreen_id}/list", response_model=FirmOfferList, summary="The firm-offer list",
            responses={404: {"description": "PRESCREEN_NOT_FOUND: you have no prescreen with this id"}})
def firm_offer_list(prescreen_id: IdPath, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep,
                    after: Annotated[int, Query(ge=0)] = 0,
                    limit: Annotated[int, Query(ge=1, le=prescreen.MAX_PAGE)] = prescreen.MAX_PAGE) -> FirmOfferList:
    """A page of the persons selected: a reference, the name and the mailing address, nothing of the file
    (FCRA §604(c)(2)). Every read is audited."""
    return prescreen.firm_offer_list(session, vault=runtime.vault, principal=principal, prescreen_id=prescreen_id,
                                     after=after, limit=limit)


@router.get(OPT_OUT, response_model=OptOutStatus, summary="Your opt-out from prescreened offers")
def my_opt_out(session: SessionDep, runtime: RuntimeDep, policy: PolicyDep, person: PersonDep) -> OptOutStatus:
    """Whether lenders may select you for prescreened offers of credit now, and every election you made."""
    return optouts.status(session, vault=runtime.vault, policy=policy, principal=person)


@router.put(OPT_OUT, response_model=OptOutRead, summary="Opt out of prescreened offers",
            responses={403: {"description": "PRESCREEN_NOT_AVAILABLE: the bureau's profile allows no prescreening"}})
def opt_out(data: OptOutCreate, session: SessionDep, runtime: RuntimeDep, policy: PolicyDep,
            person: PersonDep) -> OptOutRead:
    """Keep your file off every prescreened list, for five years or permanently (FCRA §604(e)); in force at once.
    A new election replaces the one in force."""
    return optouts.opt_out(session, vault=runtime.vault, policy=policy, principal=person, term=data.term)


@router.delete(OPT_OUT, response_model=OptOutRead, summary="Opt back in",
               responses={404: {"description": "OPT_OUT_NOT_FOUND: no opt-out of yours is in force"}})
def opt_in(session: SessionDep, runtime: RuntimeDep, policy: PolicyDep, person: PersonDep) -> OptOutRead:
    """End your opt-out at once: lenders may again select you for prescreened offers."""
    return optouts.opt_in(session, vault=runtime.vault, policy=policy, principal=person)
