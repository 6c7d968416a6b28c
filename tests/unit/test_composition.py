"""The composition root builds each function's services from exactly the environment template.yaml gives it."""

import pytest

from batchops.composition import this_environment
from batchops.operations.catalog import REGISTRY
from batchops.operations.registry import BoundOperations
from batchops.settings import SettingsError
from tests.unit.function_environments import FUNCTIONS, loaded


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_starts_with_only_the_variables_the_template_gives_it(function: str) -> None:
    # Least privilege: a function whose services needed a variable it is not given would fail its cold start.
    with loaded(function) as handler:
        assert callable(handler.lambda_handler)


def test_the_chunk_function_binds_the_resources_of_every_registered_operation() -> None:
    with loaded("ProcessChunkFunction") as handler:
        runner = handler.processor.runner
        assert isinstance(runner, BoundOperations)
        assert sorted(runner.families) == REGISTRY.names


def test_a_builder_names_the_variable_its_function_is_not_given() -> None:
    with loaded("FinalizeBatchFunction"), pytest.raises(SettingsError, match="STATE_MACHINE_ARN is not set"):
        _ = this_environment().api_services
