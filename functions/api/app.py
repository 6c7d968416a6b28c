"""The HTTP API's entry: the resolver with every Router (core routes and each family's), the error table's
handlers, and the checks made before routing. Routes live in batchops.api.routes and in each family's package."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.api.body import media_type_problem, parse_json_object
from batchops.api.errors import answer_errors, error_response, finished_description
from batchops.api.routes import batches, dashboard, uploads, webhooks
from batchops.api.routing import api_metrics, provide
from batchops.composition import this_environment
from batchops.emf import publish_metrics
from batchops.operations.catalog import FAMILIES

logger = Logger()
tracer = Tracer()
metrics = api_metrics()
# Bodies are parsed with our limits (depth, number size, objects only): a hostile body is a 400, not a crash.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_object)
for family in FAMILIES:
    if family.router is not None:
        app.include_router(family.router)
for router in (batches.router, uploads.router, webhooks.router, dashboard.router):
    app.include_router(router)
answer_errors(app, logger)

services = this_environment().api_services


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[Any]:
    """The API's description, generated from the routes and their models (no token needed)."""
    schema = app.get_openapi_json_schema(
        title="batchops",
        version="1.0.0",
        description="Batch operations over content: submit, watch, cancel, retry, download reports.",
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
    )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=finished_description(schema))


@app.not_found
def _no_route(_: Exception) -> Response[Any]:
    return error_response(404, "route_not_found", f"no route {app.current_event.http_method} {app.current_event.path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@publish_metrics(metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services.idempotency.register_lambda_context(context)
    # Checked before routing: Powertools would read form bodies as models, and answer others in its own shape.
    problem = media_type_problem(event.get("headers") or {}, bool(event.get("body")))
    if problem is not None:
        refused = error_response(415, "unsupported_media_type", problem)
        return ResponseBuilder[APIGatewayProxyEventV2](refused).build(APIGatewayProxyEventV2(event))
    provide(app, services)
    return app.resolve(event, context)
