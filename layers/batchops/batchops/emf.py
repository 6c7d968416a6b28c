"""Publishing a handler's Powertools metrics (EMF lines) at the end of each invocation that emitted any.

Powertools' `log_metrics` is meant for handlers that emit metrics on every invocation. Ours emit them on some
only (the API on a submit, the aggregator when it closes a batch, not on a retry of an already final one), and
for the others its flush prints a UserWarning ("No application metrics to publish") and keeps what the
invocation added (dimension sets, metadata) for the next one's metrics. This one flushes the metrics there
are, and clears everything either way.
"""

import functools
from collections.abc import Callable

from aws_lambda_powertools import Metrics


def publish_metrics[**P, R](metrics: Metrics) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A handler decorator, in the place of `@metrics.log_metrics`."""

    def decorate(handler: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(handler)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return handler(*args, **kwargs)
            finally:
                if metrics.metric_set:
                    metrics.flush_metrics()
                # Also after a flush: with POWERTOOLS_METRICS_DISABLED set, Powertools' flush prints nothing and
                # clears nothing.
                metrics.clear_metrics()

        return run

    return decorate
