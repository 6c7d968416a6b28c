"""Aggregator: the last step of every execution, normal or not. Records final status, counts and timings,
writes the reports and announces the batch.

Also the safety net: EventBridge invokes it when an execution ends FAILED, TIMED_OUT or ABORTED, also past
the state machine's Catch paths; it then sends the callback too, unless the state machine delivered it."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.composition import this_environment
from batchops.domain.errors import WebhookDeliveryError
from batchops.domain.finalization import SystemFailure
from batchops.domain.models import Batch, BatchStatus
from batchops.emf import publish_metrics
from batchops.events import ExecutionEndedEvent, FinalizeEvent
from batchops.metric_names import Metric, batches_ended

logger = Logger()
tracer = Tracer()
metrics = Metrics()

finalizer = this_environment().finalizer
callbacks = this_environment().callbacks


def _batch_metrics(batch: Batch, broke: bool) -> None:
    metrics.add_metric(name=batches_ended(batch.status), unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=Metric.BATCHES_FAILED_BY_SYSTEM, unit=MetricUnit.Count, value=int(broke))
    if batch.started_at is not None and batch.completed_at is not None:
        seconds = (batch.completed_at - batch.started_at).total_seconds()
        metrics.add_metric(name=Metric.BATCH_DURATION, unit=MetricUnit.Seconds, value=seconds)
    if batch.counts.processed:
        rate = 100 * batch.counts.failed / batch.counts.processed
        metrics.add_metric(name=Metric.ITEM_FAILURE_RATE, unit=MetricUnit.Percent, value=rate)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@publish_metrics(metrics)
@event_parser(model=FinalizeEvent | ExecutionEndedEvent)
def lambda_handler(event: FinalizeEvent | ExecutionEndedEvent, context: LambdaContext) -> dict[str, Any]:
    from_safety_net = isinstance(event, ExecutionEndedEvent)
    task = event.to_finalize() if isinstance(event, ExecutionEndedEvent) else event
    failure = SystemFailure(task.failure.error) if task.failure is not None else None
    result = finalizer.finalize(task.batch_id, failure)
    batch = result.batch
    if failure is not None and batch.status is not BatchStatus.CANCELLED:
        logger.error("batch workflow failed", extra={"batch_id": batch.batch_id, "error": failure.error})
    elif failure is not None:
        # A cancelled scheduled batch's execution is stopped: that is the user's cancel, not a breakdown.
        logger.info("batch execution stopped by its cancel", extra={"batch_id": batch.batch_id})
    metrics.add_dimensions(operation=batch.operation)
    # Metadata, not a dimension: a metric line leads to its batch without a metric per batch.
    metrics.add_metadata(key="batchId", value=batch.batch_id)
    if result.now_final:
        _batch_metrics(batch, broke=failure is not None and batch.status is BatchStatus.FAILED)
    # Only when the safety net had to end the batch: a workflow that ended the batch itself and then failed its
    # execution on purpose (a failed batch ends in a Fail state) is no breakdown, and must not page anyone.
    if from_safety_net and result.now_final and batch.status is not BatchStatus.CANCELLED:
        metrics.add_metric(name=Metric.SAFETY_NET_RUNS, unit=MetricUnit.Count, value=1)
    if from_safety_net:
        # An execution that ended past its NotifyCallback state (stopped, MarkFailed...): one more attempt.
        # A callback the state machine delivered is not sent twice.
        try:
            callbacks.notify(batch.batch_id)
        except WebhookDeliveryError:
            logger.warning("callback not delivered", extra={"batch_id": batch.batch_id})
    # `notify` tells the state machine to deliver the callback, with its retries.
    return {"batchId": batch.batch_id, "status": batch.status.value, "notify": bool(batch.options.callback_url)}
