"""HTTP endpoints of aggregate figures for the regulator and the operator: never a person."""

from __future__ import annotations

from fastapi import APIRouter

from openbureau.api.deps import PrincipalDep, SessionDep
from openbureau.intake import service
from openbureau.intake.schemas import FurnisherIntakeStats

router = APIRouter(tags=["statistics"])


@router.get("/stats/intake", response_model=list[FurnisherIntakeStats], summary="Intake figures per furnisher")
def intake_stats(session: SessionDep, principal: PrincipalDep) -> list[FurnisherIntakeStats]:
    """Records received, accepted, rejected and held per furnisher, and consent coverage (regulator)."""
    return service.intake_statistics(session, principal=principal)
