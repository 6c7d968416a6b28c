"""What every route module uses: the services of this execution environment, who the caller is, JSON replies.

Routes live in Powertools Routers (core ones in batchops.api.routes, a family's in its package). They reach the
services through the resolver's context, which the API's entry fills for each request (Powertools clears it
after each), so no route module imports the composition root that imports them.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from batchops.api.errors import UnauthenticatedError
from batchops.api.idempotency import Idempotency
from batchops.api.identity import TokenIntrospector, caller_subject
from batchops.domain.batches import BatchService, Caller
from batchops.domain.report_links import ReportLinks
from batchops.domain.uploads import UploadService
from batchops.domain.webhook_secrets import WebhookSecrets

_SERVICES = "batchops_services"
MAX_USER_AGENT = 512


@dataclass(frozen=True)
class ApiServices:
    batches: BatchService
    uploads: UploadService
    reports: ReportLinks
    webhook_secrets: WebhookSecrets
    idempotency: Idempotency
    # Only under `sam local`, which lets requests through without the authorizer's claims.
    introspector: TokenIntrospector | None
    # What each family's routes use (its Family.services), one object of its own type each.
    families: tuple[object, ...] = ()


@functools.cache
def api_metrics() -> Metrics:
    """The API's one Metrics instance, for its routes and for its entry, which publishes it after each request.

    Powertools' instances share their metrics and metadata, but each keeps its own dimension sets
    (add_dimensions): a route's own instance would emit its metrics without their `operation` dimension. Made on
    first use, not at import: it reads its namespace and service from the environment, and the local stack
    imports this module before it sets a function's (local/fork_server.py)."""
    return Metrics()


def new_router() -> Router:
    """A Router for a module's routes."""
    return Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated


def provide(resolver: BaseRouter, services: ApiServices) -> None:
    """Hands the services to every route of this request: call before each resolve(), which clears them."""
    resolver.append_context(**{_SERVICES: services})  # type: ignore[no-untyped-call]  # as new_router


def services(router: BaseRouter) -> ApiServices:
    found = router.context.get(_SERVICES)
    if not isinstance(found, ApiServices):
        raise RuntimeError("no services for this request: the API's entry provides them before resolving")
    return found


def family_services[ServicesT](router: BaseRouter, kind: type[ServicesT]) -> ServicesT:
    """A family's services, found by their type: `family_services(router, ContentService)`."""
    found = [s for s in services(router).families if isinstance(s, kind)]
    if len(found) != 1:
        raise RuntimeError(f"{len(found)} family services of type {kind.__name__}: their family is registered once")
    return found[0]


def _event(router: BaseRouter) -> APIGatewayProxyEventV2:
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEventV2), "an HTTP API (payload 2.0) resolver"
    return event


def owner(router: BaseRouter) -> str:
    """The subject of the request's verified token: the owner of everything it creates or reads."""
    event = _event(router)
    claims = event.request_context.authorizer.jwt_claim
    sub = caller_subject(claims, event.headers.get("authorization"), services(router).introspector)
    if sub is None:
        raise UnauthenticatedError()
    return sub


def caller(router: BaseRouter) -> Caller:
    http = _event(router).request_context.http
    # Kept for the audit trail, bounded: a header of kilobytes must not make the batch record too large.
    return Caller(owner(router), source_ip=http.source_ip, user_agent=(http.user_agent or "")[:MAX_USER_AGENT] or None)


def json_reply[ModelT: BaseModel](
    status: int, model: ModelT, headers: dict[str, str] | None = None
) -> Response[ModelT]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model, headers=headers)


def once(router: BaseRouter, route: str, key: str | None, produce: Callable[[], BaseModel]) -> dict[str, Any]:
    """The reply to a create; with an Idempotency-Key header, the first reply to that key and body."""

    def reply() -> dict[str, Any]:
        return produce().model_dump(mode="json", by_alias=True)

    if key is None:
        return reply()
    return services(router).idempotency.first_reply(route, owner(router), key, _event(router).json_body, reply)
