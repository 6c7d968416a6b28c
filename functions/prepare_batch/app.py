"""Workflow task: check a batch's manifest in full and cut it into chunks (round 0), or list the chunks a round
left unfinished (round n). Only chunk numbers reach the state machine, never items."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from batchops.composition import this_environment
from batchops.domain.preparation import Progress
from batchops.events import PrepareEvent, RoundOut

logger = Logger()
tracer = Tracer()

preparer = this_environment().preparer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=PrepareEvent)
def lambda_handler(event: PrepareEvent, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=event.batch_id, round=event.round)
    if event.round == 0:
        found = preparer.prepare(event.batch_id)
    else:
        previous = Progress(event.previous.chunk_count, event.previous.processed) if event.previous else None
        found = preparer.next_round(event.batch_id, event.round, previous)
        if found.stalled:
            logger.error("a round finished no chunk and no item", extra={"chunks": found.chunk_count})
    if not found.valid:
        logger.info("manifest refused")
    out = RoundOut(
        number=event.round,
        valid=found.valid,
        chunk_count=found.chunk_count,
        chunks_key=found.chunks_key,
        threads=found.threads,
        parallel_chunks=found.parallel_chunks,
        processed=found.processed,
        stalled=found.stalled,
    )
    return out.model_dump(by_alias=True)
