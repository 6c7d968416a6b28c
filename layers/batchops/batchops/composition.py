"""The composition root: every Lambda function's services, built from the settings and the AWS clients of its
execution environment, each once. Handlers take theirs at import, so a variable their function lacks fails
its cold start with the variable's name, before any event is handled."""

from functools import cache, cached_property

from batchops.adapters.aws_clients import AwsClients
from batchops.adapters.dynamo_batches import DynamoBatchRepository
from batchops.adapters.dynamo_chunks import DynamoChunkRepository
from batchops.adapters.dynamo_owner_counters import DynamoHourlyLimits, DynamoSecretVersions
from batchops.adapters.eventbridge import EventBridgePublisher
from batchops.adapters.s3_items import S3ItemStore
from batchops.adapters.s3_reports import S3ReportStore
from batchops.adapters.s3_uploads import S3Uploads
from batchops.adapters.stepfunctions import StepFunctionsStarter
from batchops.adapters.system import SystemClock, UuidGenerator
from batchops.adapters.token_introspection import HttpTokenIntrospector
from batchops.adapters.webhooks import HttpWebhookSender, SecretsManagerSecret
from batchops.api.idempotency import Idempotency
from batchops.api.routing import ApiServices
from batchops.domain.finalization import BatchFinalizer
from batchops.domain.notifications import CallbackNotifier
from batchops.domain.preparation import BatchPreparer
from batchops.domain.processing import ChunkProcessor, Timing
from batchops.domain.report_links import ReportLinks
from batchops.domain.uploads import UploadService
from batchops.domain.webhook_secrets import WebhookSecrets
from batchops.engine import Engine
from batchops.operations.catalog import FAMILIES
from batchops.settings import Settings, process_settings


class Composition:
    """One function's services: each property is built on first use, from only the settings it needs."""

    def __init__(self, settings: Settings, clients: AwsClients) -> None:
        self.settings = settings
        self.clients = clients

    @cached_property
    def engine(self) -> Engine:
        table, dynamodb = self.settings.batches_table, self.clients.dynamodb
        return Engine(
            batches=DynamoBatchRepository(table, dynamodb),
            chunks=DynamoChunkRepository(table, dynamodb),
            store=S3ItemStore(self.settings.items_bucket, self.clients.s3),
            clock=SystemClock(),
        )

    @cached_property
    def preparer(self) -> BatchPreparer:
        return self.engine.preparer()

    @cached_property
    def chunk_processor(self) -> ChunkProcessor:
        """The only service that runs operations: the only one that builds the families' resources."""
        settings, clients = self.settings, self.clients
        families = [family.with_resources(family.resources(settings, clients)) for family in FAMILIES]
        return self.engine.processor(*families, timing=Timing(flush_ms=settings.flush_seconds * 1000))

    @cached_property
    def finalizer(self) -> BatchFinalizer:
        settings, clients = self.settings, self.clients
        return self.engine.finalizer(
            reports=self._reports,
            events=EventBridgePublisher(settings.event_bus_name.required(), clients.events),
            retention=settings.retention.required(),
        )

    @cached_property
    def callbacks(self) -> CallbackNotifier:
        sender = HttpWebhookSender(allow_loopback=self.settings.allow_loopback_callbacks)
        return self.engine.callbacks(sender, self._webhook_secrets)

    @cached_property
    def api_services(self) -> ApiServices:
        settings, clients, engine = self.settings, self.clients, self.engine
        table, dynamodb = settings.batches_table, clients.dynamodb
        uploads = S3Uploads(table, settings.items_bucket, dynamodb, clients.s3)
        introspection_url = settings.token_introspection_url
        return ApiServices(
            batches=engine.batch_service(
                workflow=StepFunctionsStarter(settings.state_machine_arn.required(), clients.stepfunctions),
                ids=UuidGenerator(),
                # The API ends a batch itself only when its execution cannot start; it does so like the aggregator.
                finalizer=self.finalizer,
                limits=DynamoHourlyLimits(table, dynamodb),
                max_batches_per_hour=settings.max_batches_per_hour.required(),
                uploads=uploads,
                allow_loopback_callbacks=settings.allow_loopback_callbacks,
            ),
            uploads=UploadService(uploads, engine.clock, UuidGenerator()),
            reports=ReportLinks(engine.batches, self._reports),
            webhook_secrets=self._webhook_secrets,
            idempotency=Idempotency(settings.idempotency_table.required(), dynamodb),
            introspector=HttpTokenIntrospector(introspection_url) if introspection_url else None,
            families=tuple(family.services(settings, clients) for family in FAMILIES if family.services is not None),
        )

    @cached_property
    def _reports(self) -> S3ReportStore:
        return S3ReportStore(self.settings.reports_bucket.required(), self.clients.s3)

    @cached_property
    def _webhook_secrets(self) -> WebhookSecrets:
        secret = SecretsManagerSecret(self.settings.webhook_secret_arn.required(), lambda: self.clients.secretsmanager)
        return WebhookSecrets(secret, DynamoSecretVersions(self.settings.batches_table, self.clients.dynamodb))


@cache
def this_environment() -> Composition:
    """The services of this execution environment, from its environment variables and its boto3 clients."""
    return Composition(process_settings(), AwsClients())
