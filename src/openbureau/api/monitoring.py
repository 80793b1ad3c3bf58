"""HTTP endpoints of portfolio monitoring and webhooks: a lender's monitored subjects, its triggers, its
webhook endpoints (secret shown once), its delivery log and replays. A lender sees only its own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from openbureau.api.deps import IdPath, PrincipalDep, RuntimeDep, SessionDep
from openbureau.inquiries import access
from openbureau.monitoring import service, webhooks
from openbureau.monitoring.schemas import (
    BulkResult,
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointSecret,
    RotateSecret,
    SubscriptionBulkCreate,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    TriggerRead,
)
from openbureau.runtime import Runtime

router = APIRouter(tags=["monitoring"])
AfterId = Annotated[int, Query(ge=0, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _registrar(runtime: Runtime) -> service.Registrar:
    return service.Registrar(vault=runtime.vault, policy=runtime.policy, access=access)


@router.post("/monitoring/subscriptions", response_model=SubscriptionRead, status_code=201,
             summary="Monitor a subject")
def register(data: SubscriptionCreate, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
             ) -> SubscriptionRead:
    """Register a person you hold an account of (or a consent for account review from) for monitoring."""
    return service.register(session, registrar=_registrar(runtime), principal=principal, data=data)


@router.post("/monitoring/subscriptions/bulk", response_model=BulkResult, summary="Monitor many subjects")
def register_many(data: SubscriptionBulkCreate, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                  ) -> BulkResult:
    """Up to 1,000 subjects; each is registered or refused on its own, with its code."""
    return service.register_many(session, registrar=_registrar(runtime), principal=principal,
                                 items=data.subscriptions)


@router.get("/monitoring/subscriptions", response_model=list[SubscriptionRead], summary="Your monitored subjects")
def list_subscriptions(session: SessionDep, principal: PrincipalDep, after_id: AfterId = 0, limit: Limit = 100
                       ) -> list[SubscriptionRead]:
    """A page of your registrations, in id order (never the identity numbers)."""
    return service.list_subscriptions(session, principal=principal, after_id=after_id, limit=limit)


@router.patch("/monitoring/subscriptions/{subscription_id}", response_model=SubscriptionRead,
              summary="Set a subject's score watch")
def update_subscription(subscription_id: IdPath, data: SubscriptionUpdate, session: SessionDep,
                        principal: PrincipalDep) -> SubscriptionRead:
    """Set the points the person's score must move for a ``score_change`` trigger (null: not watched)."""
    return service.update_subscription(session, principal=principal, subscription_id=subscription_id, data=data)


@router.delete("/monitoring/subscriptions/{subscription_id}", status_code=204, summary="Stop monitoring a subject")
def delete_subscription(subscription_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    """Stop monitoring; the triggers already written stay in your log."""
    service.delete_subscription(session, principal=principal, subscription_id=subscription_id)
    return Response(status_code=204)


@router.get("/monitoring/triggers", response_model=list[TriggerRead], summary="Your triggers")
def list_triggers(session: SessionDep, principal: PrincipalDep, after_id: AfterId = 0, limit: Limit = 100
                  ) -> list[TriggerRead]:
    """Your triggers after ``after_id``, oldest first (the same ones the webhooks deliver)."""
    return service.list_triggers(session, principal=principal, after_id=after_id, limit=limit)


@router.post("/webhooks/endpoints", response_model=EndpointSecret, status_code=201, summary="Add a webhook endpoint")
def create_endpoint(data: EndpointCreate, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
                    ) -> EndpointSecret:
    """An HTTPS endpoint for your triggers; the answer holds its signing secret, shown this once."""
    return webhooks.create_endpoint(session, vault=runtime.vault, principal=principal, url=data.url,
                                    allow_loopback=runtime.settings.webhook_allow_loopback)


@router.get("/webhooks/endpoints", response_model=list[EndpointRead], summary="Your webhook endpoints")
def list_endpoints(session: SessionDep, principal: PrincipalDep) -> list[EndpointRead]:
    """Your endpoints, without their secrets."""
    return webhooks.list_endpoints(session, principal=principal)


@router.post("/webhooks/endpoints/{endpoint_id}/rotate", response_model=EndpointSecret,
             summary="Rotate an endpoint's secret")
def rotate(endpoint_id: IdPath, data: RotateSecret, session: SessionDep, runtime: RuntimeDep,
           principal: PrincipalDep) -> EndpointSecret:
    """A new secret (shown this once); the old one keeps signing beside it for the grace period."""
    return webhooks.rotate_secret(session, vault=runtime.vault, principal=principal, endpoint_id=endpoint_id,
                                  grace_hours=data.grace_hours)


@router.delete("/webhooks/endpoints/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint")
def delete_endpoint(endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    """Stop delivering to it; its pending deliveries become dead (replay them once you have another)."""
    webhooks.delete_endpoint(session, principal=principal, endpoint_id=endpoint_id)
    return Response(status_code=204)


@router.get("/webhooks/deliveries", response_model=list[DeliveryRead], summary="Your delivery log")
def list_deliveries(session: SessionDep, principal: PrincipalDep,
                    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
                    before_id: AfterId = 0, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[DeliveryRead]:
    """Your deliveries, newest first; ``status=dead`` is the dead-letter list."""
    return webhooks.list_deliveries(session, principal=principal, status=status, before_id=before_id, limit=limit)


@router.post("/webhooks/deliveries/{delivery_id}/replay", response_model=DeliveryRead, summary="Replay a delivery")
def replay(delivery_id: IdPath, session: SessionDep, principal: PrincipalDep) -> DeliveryRead:
    """Deliver a dead (or delivered) delivery again, with the same delivery id."""
    return webhooks.replay(session, principal=principal, delivery_row_id=delivery_id)
