"""Each Lambda function of template.yaml, loaded in unit tests as Lambda loads it: with exactly the environment
variables the template gives it (parameters at their defaults), and its own module state."""

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from batchops.composition import this_environment
from batchops.settings import process_settings
from local.template import Context, evaluate_conditions, parameter_values, resolve, with_globals
from tests.conftest import ROOT
from tests.unit.test_template import TEMPLATE

FUNCTIONS = sorted(
    name for name, resource in TEMPLATE["Resources"].items() if resource["Type"] == "AWS::Serverless::Function"
)


def _properties(function: str) -> dict[str, Any]:
    return with_globals(TEMPLATE["Resources"][function]["Properties"], TEMPLATE["Globals"]["Function"])


def environment_of(function: str) -> dict[str, str]:
    ctx = Context("eu-west-1", "111122223333", "stack", parameter_values(TEMPLATE, {}))
    ctx.ref_resource = lambda name: f"physical-{name}"
    ctx.get_att = lambda name, attr: f"{name}-{attr}"
    evaluate_conditions(TEMPLATE, ctx)
    variables: dict[str, str] = resolve(_properties(function)["Environment"]["Variables"], ctx)
    return variables


@contextmanager
def loaded(function: str) -> Iterator[ModuleType]:
    """The function's handler module, imported under its environment (and no other function's variables)."""
    everyone = {name for f in FUNCTIONS for name in environment_of(f)}
    saved = dict(os.environ)
    for name in everyone:
        os.environ.pop(name, None)
    # What the Lambda runtime gives every function; no X-Ray daemon listens here.
    os.environ.update(AWS_DEFAULT_REGION="eu-west-1", POWERTOOLS_TRACE_DISABLED="true", **environment_of(function))
    process_settings.cache_clear()
    this_environment.cache_clear()
    try:
        path = ROOT / _properties(function)["CodeUri"] / "app.py"
        spec = importlib.util.spec_from_file_location(f"handler_of_{function}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        os.environ.clear()
        os.environ.update(saved)
        process_settings.cache_clear()
        this_environment.cache_clear()
