"""The content family: its operations, what they need when items run, and its routes."""

from batchops.adapters.aws_clients import AwsClients
from batchops.adapters.contract_http import contract_gateway
from batchops.adapters.dynamo_content import DynamoContentRepository
from batchops.adapters.system import SystemClock, UuidGenerator
from batchops.content.operations import CONTENT_OPERATIONS, ContentResources
from batchops.content.routes import router
from batchops.content.service import ContentService
from batchops.operations.family import Family
from batchops.settings import Settings


def _repository(settings: Settings, clients: AwsClients) -> DynamoContentRepository:
    return DynamoContentRepository(settings.required("CONTENT_TABLE"), clients.dynamodb)


def _resources(settings: Settings, clients: AwsClients) -> ContentResources:
    # No endpoint configured (CONTRACT_ENDPOINT_URL empty): changes stay off-chain.
    contract = contract_gateway(settings.optional("CONTRACT_ENDPOINT_URL"), settings.contract_timeout_seconds)
    return ContentResources(_repository(settings, clients), contract)


def _services(settings: Settings, clients: AwsClients) -> ContentService:
    return ContentService(_repository(settings, clients), SystemClock(), UuidGenerator())


CONTENT = Family(
    name="content",
    operations=CONTENT_OPERATIONS,
    resources=_resources,
    router=router,
    services=_services,
)
