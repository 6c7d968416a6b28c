"""Settings: read from the environment once, typed, and a missing variable named where it is needed."""

from datetime import timedelta

import pytest

from batchops.settings import ChunkWorkflowType, Settings, SettingsError

EVERY_FUNCTION = {"BATCHES_TABLE": "batches", "ITEMS_BUCKET": "items"}


def test_variables_are_parsed_into_their_types() -> None:
    settings = Settings.from_environ(
        {
            **EVERY_FUNCTION,
            "MAX_BATCHES_PER_HOUR": "50",
            "RETENTION_DAYS": "90",
            "ALLOW_LOOPBACK_CALLBACKS": "true",
            "CONTRACT_TIMEOUT_SECONDS": "2.5",
            "CHUNK_WORKFLOW_TYPE": "EXPRESS",
            "FLUSH_SECONDS": "0.2",
        }
    )
    assert (settings.batches_table, settings.items_bucket) == ("batches", "items")
    assert settings.max_batches_per_hour.required() == 50
    assert settings.retention.required() == timedelta(days=90)
    assert settings.allow_loopback_callbacks is True
    assert (settings.contract_timeout_seconds, settings.flush_seconds) == (2.5, 0.2)
    assert settings.chunk_workflow_type is ChunkWorkflowType.EXPRESS


def test_absent_variables_take_their_defaults_and_only_true_is_true() -> None:
    settings = Settings.from_environ({**EVERY_FUNCTION, "ALLOW_LOOPBACK_CALLBACKS": "yes"})
    assert settings.allow_loopback_callbacks is False
    assert (settings.contract_timeout_seconds, settings.flush_seconds) == (5.0, 1.0)
    assert settings.chunk_workflow_type is None
    assert settings.token_introspection_url is None


def test_a_variable_the_function_lacks_is_named_when_a_builder_needs_it() -> None:
    settings = Settings.from_environ(EVERY_FUNCTION)
    assert settings.reports_bucket.value is None
    with pytest.raises(SettingsError, match="REPORTS_BUCKET is not set"):
        settings.reports_bucket.required()
    with pytest.raises(SettingsError, match="ITEMS_BUCKET is not set"):
        Settings.from_environ({"BATCHES_TABLE": "batches"})


def test_an_empty_variable_is_not_set() -> None:
    # CloudFormation passes an empty parameter as "", never as an absent variable.
    settings = Settings.from_environ({**EVERY_FUNCTION, "STATE_MACHINE_ARN": "", "CONTRACT_ENDPOINT_URL": ""})
    assert settings.state_machine_arn.value is None
    assert settings.optional("CONTRACT_ENDPOINT_URL") is None


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MAX_BATCHES_PER_HOUR", "fifty", "MAX_BATCHES_PER_HOUR must be an integer, not 'fifty'"),
        ("RETENTION_DAYS", "1.5", "RETENTION_DAYS must be a whole number of days, not '1.5'"),
        ("CONTRACT_TIMEOUT_SECONDS", "soon", "CONTRACT_TIMEOUT_SECONDS must be a number of seconds, not 'soon'"),
        ("CHUNK_WORKFLOW_TYPE", "FAST", "CHUNK_WORKFLOW_TYPE must be EXPRESS or STANDARD, not 'FAST'"),
    ],
)
def test_a_malformed_value_is_refused_at_once_naming_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ({**EVERY_FUNCTION, variable: value})
    assert str(raised.value) == expected


def test_families_read_their_own_variables_by_name() -> None:
    settings = Settings.from_environ({**EVERY_FUNCTION, "USERS_TABLE": "users"})
    assert settings.required("USERS_TABLE") == "users"
    assert settings.optional("USERS_PEPPER") is None
    with pytest.raises(SettingsError, match="CONTENT_TABLE is not set"):
        settings.required("CONTENT_TABLE")
    costs = Settings.from_environ({**EVERY_FUNCTION, "PASSWORD_HASH_COST": "14"})
    assert costs.parsed("PASSWORD_HASH_COST", int, "an integer").or_default(15) == 14
    assert settings.parsed("PASSWORD_HASH_COST", int, "an integer").or_default(15) == 15
    with pytest.raises(SettingsError, match="PASSWORD_HASH_COST must be an integer, not 'high'"):
        Settings.from_environ({**EVERY_FUNCTION, "PASSWORD_HASH_COST": "high"}).parsed(
            "PASSWORD_HASH_COST", int, "an integer"
        )


def test_the_introspection_url_is_used_only_under_sam_local() -> None:
    url = {"LOCAL_TOKEN_INTROSPECTION_URL": "http://host.docker.internal:3000/_local/introspect"}
    assert Settings.from_environ({**EVERY_FUNCTION, **url}).token_introspection_url is None
    on_sam = Settings.from_environ({**EVERY_FUNCTION, **url, "AWS_SAM_LOCAL": "true"})
    assert on_sam.token_introspection_url == url["LOCAL_TOKEN_INTROSPECTION_URL"]


def test_the_settings_keep_their_own_copy_of_the_environment() -> None:
    environ = {**EVERY_FUNCTION, "USERS_TABLE": "users"}
    settings = Settings.from_environ(environ)
    environ["USERS_TABLE"] = "changed"
    assert settings.required("USERS_TABLE") == "users"
