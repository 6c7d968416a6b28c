"""Child workflow task: run one chunk of a batch (its items on a few threads) until done or out of time."""

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.composition import this_environment
from batchops.domain.chunks import Lease
from batchops.domain.processing import ChunkRun
from batchops.emf import publish_metrics
from batchops.events import ChunkEvent, ChunkNext
from batchops.metric_names import Metric
from batchops.settings import ChunkWorkflowType

logger = Logger()
tracer = Tracer()
metrics = Metrics()

environment = this_environment()
processor = environment.chunk_processor
clock = processor.clock
# No item starts later than this before the invocation's end: the slowest item (its downstream call) and the
# last write still fit in the Lambda timeout.
_ITEM_MARGIN_MS = (environment.settings.contract_timeout_seconds + 5) * 1000
# An EXPRESS child workflow lives at most five minutes; leave the margin and a little more.
_CHILD_BUDGET = timedelta(minutes=5) if environment.settings.chunk_workflow_type is ChunkWorkflowType.EXPRESS else None


def _time_left_ms(event: ChunkEvent, context: LambdaContext) -> float:
    left = float(context.get_remaining_time_in_millis())
    if _CHILD_BUDGET is not None:
        child_ends = event.child_started_at + _CHILD_BUDGET
        left = min(left, (child_ends - clock.now()).total_seconds() * 1000)
    return left


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@publish_metrics(metrics)
@event_parser(model=ChunkEvent)
def lambda_handler(event: ChunkEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=event.batch_id, chunk=event.number)
    now = clock.now()
    left_ms = _time_left_ms(event, context)
    lease = Lease(
        event.execution, event.attempt, now, now + timedelta(milliseconds=context.get_remaining_time_in_millis())
    )
    run = ChunkRun(event.batch_id, event.number, event.threads, lease, clock.monotonic_ms() + left_ms - _ITEM_MARGIN_MS)
    if event.failure is not None:
        logger.warning("chunk failed after retries", extra={"error": event.failure.error})
        processor.give_up(run, event.failure.error)
        return {"next": ChunkNext.DONE.value}
    result = processor.run(run)
    # Per chunk, not per item: one metrics line per invocation.
    if result.operation is not None:
        metrics.add_dimensions(operation=result.operation)
    metrics.add_metadata(key="batchId", value=event.batch_id)
    metrics.add_metric(name=Metric.ITEMS_SUCCEEDED, unit=MetricUnit.Count, value=result.succeeded)
    metrics.add_metric(name=Metric.ITEMS_FAILED, unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name=Metric.CHUNK_SIZE, unit=MetricUnit.Count, value=result.succeeded + result.failed)
    if result.done:
        return {"next": ChunkNext.DONE.value}
    # Out of time with items left: again in this child workflow if it has time for one more window, else the
    # next round of the Map takes the chunk on.
    more_here = _time_left_ms(event, context) > 2 * _ITEM_MARGIN_MS
    return {"next": (ChunkNext.AGAIN if more_here else ChunkNext.LATER).value}
