"""template.yaml and the ASL agree, and the offline stack reads the template as CloudFormation would."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from batchops.domain import errors
from batchops.domain.models import BatchStatus
from batchops.events import BATCH_ENDED_STATES, ChunkEvent, ChunkNext, RoundOut
from batchops.metric_names import Metric, batches_ended
from local.template import (
    Context,
    TemplateError,
    evaluate_conditions,
    load_template,
    parameter_values,
    resolve,
    with_globals,
)
from tests.conftest import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
ASL_PATH = ROOT / "statemachine" / "batch.asl.json"


def _context(**parameters: str) -> Context:
    ctx = Context("eu-west-1", "111122223333", "stack", parameters)
    ctx.ref_resource = lambda name: f"physical-{name}"
    ctx.get_att = lambda name, attr: f"{name}-{attr}"
    return ctx


def test_every_asl_placeholder_has_a_substitution_and_the_asl_holds_no_literal_arn() -> None:
    machine = TEMPLATE["Resources"]["BatchStateMachine"]["Properties"]
    text = ASL_PATH.read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    assert placeholders == set(machine["DefinitionSubstitutions"])
    assert not re.search(r"arn:aws:(lambda|dynamodb):", text)
    json.loads(text)


def test_a_distributed_map_reads_chunk_numbers_from_s3_and_runs_children_of_the_substituted_type() -> None:
    states = json.loads(ASL_PATH.read_text())["States"]
    chunks = states["ProcessChunks"]
    assert chunks["ItemReader"]["Parameters"]["Bucket"] == "${ItemsBucketName}"
    assert chunks["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "${ChunkWorkflowType}",
    }
    assert chunks["MaxConcurrencyPath"] == "$.round.parallelChunks"
    assert chunks["ResultPath"] is None  # results stay in DynamoDB, not in the state
    # A few broken children are tolerated (the next round runs their chunks again); one more ends the round, not
    # the batch: the next round waits for the children still running, then runs what is left unless the batch
    # stopped. A stopped batch's children fail at once, so few start after a stop.
    assert "ToleratedFailurePercentage" not in chunks and 0 < chunks["ToleratedFailureCount"] <= 10
    assert chunks["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "NextRound"}]
    waits = [rule for rule in states["NextRound"]["Retry"] if rule["ErrorEquals"] == ["ChunksRunningError"]]
    # Long enough to outwait the lease of a chunk whose invocation crashed (the chunk function's timeout).
    timeout = TEMPLATE["Resources"]["ProcessChunkFunction"]["Properties"]["Timeout"]
    assert (
        sum(
            min(r["IntervalSeconds"] * r["BackoffRate"] ** n, r["MaxDelaySeconds"])
            for r in waits
            for n in range(r["MaxAttempts"])
        )
        > timeout
    )
    template = TEMPLATE["Resources"]["BatchStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert template["ChunkWorkflowType"] == {"Ref": "ChunkWorkflowType"}


def test_the_asl_and_the_task_functions_agree_on_every_field_they_exchange() -> None:
    states = dict(_states(json.loads(ASL_PATH.read_text())["States"]))
    for name in ("Prepare", "NextRound"):
        selected = {key.removesuffix(".$") for key in states[name]["ResultSelector"]}
        assert selected == {field.alias or key for key, field in RoundOut.model_fields.items()}, name
    payload = {key.removesuffix(".$") for key in states["RunChunk"]["Parameters"]["Payload"]}
    assert payload == {field.alias or key for key, field in ChunkEvent.model_fields.items()} - {"failure"}
    given_up = {key.removesuffix(".$") for key in states["GiveUpChunk"]["Parameters"]["Payload"]}
    assert given_up == payload | {"failure"}
    tested = {choice["StringEquals"] for choice in states["MoreOfChunk"]["Choices"]}
    assert tested <= {next_step.value for next_step in ChunkNext}


def test_every_route_of_the_api_function_is_an_http_api_event() -> None:
    events = TEMPLATE["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    assert routes == {
        ("POST", "/content"),
        ("GET", "/content/{contentId}"),
        ("POST", "/users"),
        ("GET", "/users/{userId}"),
        ("GET", "/users"),
        ("POST", "/users/lookup"),
        ("POST", "/batches"),
        ("POST", "/uploads"),
        ("GET", "/batches/{batchId}"),
        ("GET", "/batches/{batchId}/items"),
        ("GET", "/batches"),
        ("POST", "/batches/{batchId}/cancel"),
        ("POST", "/batches/{batchId}/retry"),
        ("GET", "/batches/{batchId}/report"),
        ("GET", "/webhooks/secret"),
        ("POST", "/webhooks/secret/rotate"),
        ("GET", "/openapi.json"),
        ("GET", "/dashboard"),
        ("GET", "/dashboard/{asset}"),
    }
    assert all(e["Type"] == "HttpApi" for e in events)


# Routes of the API function that are pages, not API operations: public, and not in the OpenAPI description.
PAGES = {("GET", "/openapi.json"), ("GET", "/dashboard"), ("GET", "/dashboard/{asset}")}


def test_only_the_pages_are_served_without_the_jwt_authorizer() -> None:
    """The API's description and the dashboard's page and files are public; every other route needs a token."""
    events = TEMPLATE["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    public = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in events
        if e["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
    }
    assert public == PAGES


def test_intrinsics_resolve_like_cloudformation() -> None:
    ctx = _context(Stage="dev")
    value: dict[str, Any] = {
        "a": {"Fn::Sub": "${AWS::StackName}-${Stage}-${Table.Arn}-${Table}-${!Literal}"},
        "b": {"Fn::Join": ["/", ["x", {"Ref": "Stage"}]]},
        "c": [{"Ref": "AWS::NoValue"}, {"Fn::GetAtt": ["Fn", "Arn"]}],
        "d": {"Fn::Sub": ["${X}-${AWS::Region}", {"X": {"Ref": "Stage"}}]},
    }
    assert resolve(value, ctx) == {
        "a": "stack-dev-Table-Arn-physical-Table-${Literal}",
        "b": "x/dev",
        "c": ["Fn-Arn"],
        "d": "dev-eu-west-1",
    }


def test_an_unsupported_intrinsic_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolve({"Fn::ImportValue": "x"}, _context())


def test_globals_merge_maps_concatenate_lists_and_override_scalars() -> None:
    merged = with_globals(
        {"Timeout": 5, "Layers": ["b"], "Environment": {"Variables": {"B": "2", "A": "x"}}},
        {"Timeout": 30, "Layers": ["a"], "Environment": {"Variables": {"A": "1"}}},
    )
    assert merged == {"Timeout": 5, "Layers": ["a", "b"], "Environment": {"Variables": {"A": "x", "B": "2"}}}


def test_parameters_take_defaults_and_reject_unknown_overrides() -> None:
    values = parameter_values(TEMPLATE, {"ContractTimeoutSeconds": "2"})
    assert values["ContractTimeoutSeconds"] == "2"
    assert values["Stage"] == "dev"
    with pytest.raises(TemplateError, match="Nope"):
        parameter_values(TEMPLATE, {"Nope": "1"})


def _api_environment(**parameters: str) -> dict[str, str]:
    ctx = _context(**parameter_values(TEMPLATE, parameters))
    evaluate_conditions(TEMPLATE, ctx)
    props = with_globals(TEMPLATE["Resources"]["ApiFunction"]["Properties"], TEMPLATE["Globals"]["Function"])
    variables: dict[str, str] = resolve(props["Environment"]["Variables"], ctx)
    return variables


def test_deployed_functions_get_no_sam_local_variables_unless_the_local_parameters_are_set() -> None:
    local_only = {"AWS_ENDPOINT_URL", "LOCAL_TOKEN_INTROSPECTION_URL"}
    assert not local_only & set(_api_environment())
    pointed = _api_environment(
        LocalAwsEndpointUrl="http://host.docker.internal:5000",
        LocalTokenIntrospectionUrl="http://host.docker.internal:3000/_local/introspect",
    )
    assert pointed["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"
    assert pointed["LOCAL_TOKEN_INTROSPECTION_URL"].endswith("/_local/introspect")


def test_every_checkov_skip_names_a_check_and_gives_a_one_line_reason() -> None:
    skips = [
        (name, skip)
        for name, resource in TEMPLATE["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips  # `make checkov` passes because of these: each must say why
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        comment = skip.get("comment", "")
        assert comment.strip() and "\n" not in comment, (name, skip)


def _states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of the ASL, Map processors included."""
    for name, state in states.items():
        yield name, state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor["States"])


def test_the_asl_names_only_errors_python_defines_and_retries_only_transient_ones() -> None:
    asl = json.loads(ASL_PATH.read_text())
    ours = {cls.__name__: cls for cls in _subclasses(errors.BatchOpsError)}
    retried: set[str] = set()
    for _, state in _states(asl["States"]):
        for rule in state.get("Retry", []):
            retried |= set(rule["ErrorEquals"])
        for rule in [*state.get("Retry", []), *state.get("Catch", [])]:
            for name in rule["ErrorEquals"]:
                # Runtime.* and Sandbox.* are Lambda's names for a crashed or timed-out invocation.
                prefixes = ("States.", "Lambda.", "DynamoDB.", "Runtime.", "Sandbox.")
                assert name.startswith(prefixes) or name in ours, name
    assert "StoreUnavailableError" in retried
    # Never worth a retry: a refused call fails the same way again, a refused callback must not be re-sent.
    assert not retried & {"InfrastructureError", "CallbackRefusedError", "InvalidRequestError"}


def test_the_fail_states_are_the_ones_the_aggregator_knows_as_a_closed_batch() -> None:
    asl = json.loads(ASL_PATH.read_text())
    fail_errors = {state["Error"] for state in asl["States"].values() if state["Type"] == "Fail"}
    assert fail_errors == BATCH_ENDED_STATES


def test_a_child_workflow_fails_only_with_errors_python_defines() -> None:
    asl = json.loads(ASL_PATH.read_text())
    ours = {cls.__name__ for cls in _subclasses(errors.BatchOpsError)}
    child_fails = {
        state["Error"]
        for top in asl["States"].values()
        if "ItemProcessor" in top
        for state in top["ItemProcessor"]["States"].values()
        if state["Type"] == "Fail"
    }
    assert child_fails == {errors.BatchStoppedError.__name__}
    assert child_fails <= ours


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_the_alarms_and_the_dashboard_watch_the_metrics_the_handlers_emit() -> None:
    resources = TEMPLATE["Resources"]
    service = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    ours = {p["MetricName"] for p in alarms.values() if p.get("Namespace") == "batchops"}
    assert ours == {Metric.BATCHES_FAILED_BY_SYSTEM, Metric.ITEM_FAILURE_RATE, Metric.SAFETY_NET_RUNS}
    for name, props in alarms.items():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        if props.get("Namespace") == "batchops":
            # The dimension set every metric is emitted with (besides [operation]).
            assert props["Dimensions"] == [{"Name": "service", "Value": service}], name
    watched = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for props in alarms.values()
        for m in props.get("Metrics", [])
        if "MetricStat" in m
    }
    assert watched == {"PrepareBatchFunction", "ProcessChunkFunction", "FinalizeBatchFunction", "NotifyBatchFunction"}
    dashboard = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    shown = set(re.findall(r'"(\w+)", "service", "batchops"|\[\s*"\.", "(\w+)", "\.", "\."', dashboard))
    names = {name for pair in shown for name in pair if name}
    assert {
        *Metric,
        *(batches_ended(s) for s in (BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED)),
    } <= names
    assert resources["AlarmMail"]["Condition"] == "MailAlarms"
