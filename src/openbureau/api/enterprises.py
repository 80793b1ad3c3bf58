"""HTTP endpoints of enterprises (standard v1.1): a member looks at an enterprise's accounts across lenders for
a permitted purpose; logged and audited as an inquiry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openbureau.api.deps import InquiryLogDep, PolicyDep, PrincipalDep, RuntimeDep
from openbureau.consent.profiles import Purpose
from openbureau.kit.db import session_scope
from openbureau.reports import enterprise
from openbureau.reports.enterprise_schemas import EnterpriseInquiryResult

router = APIRouter(tags=["enterprises"])


@router.get("/enterprises/{uscc}/report", response_model=EnterpriseInquiryResult,
            summary="An enterprise's report",
            responses={403: {"description": "not a member that may query for this purpose: the code says why"},
                       422: {"description": "not a unified social credit code (USCC_FORMAT, USCC_CHECK_CHARACTER, "
                                            "TOO_LONG)"}})
async def enterprise_report(uscc: Annotated[str, Path(max_length=enterprise.USCC_ASKED_MAX)], runtime: RuntimeDep,
                            principal: PrincipalDep, policy: PolicyDep, log: InquiryLogDep,
                            purpose: Annotated[Purpose, Query(description="Why you look.")]
                            ) -> EnterpriseInquiryResult:
    """The enterprise's accounts across lenders (other lenders masked) and their totals. An enterprise's
    loans are not personal data: no consent is asked, but the purpose must be one you may query for, and the
    look is logged as an inquiry and audited before the answer is sent. ``found`` is false when the bureau
    holds no accounts of the enterprise."""
    with session_scope(runtime.engine, read_only=True) as session:
        prepared = enterprise.prepare_enterprise_report(session, vault=runtime.vault, principal=principal,
                                                        uscc=uscc, purpose=purpose, policy=policy)
    return prepared.finish(await log.write_async(prepared.entry))
