"""The service's settings: read from the environment once, parsed and typed here, and nowhere else.

Each function gets only the variables its work needs (least privilege: its Environment in template.yaml), so
what one function may lack is optional here, and asking for it where it is missing names the variable.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType


class SettingsError(Exception):
    """A variable a builder needs is missing, or a variable's value cannot be read."""


class ChunkWorkflowType(StrEnum):
    """How the Distributed Map runs its child workflows (template parameter ChunkWorkflowType)."""

    EXPRESS = "EXPRESS"
    STANDARD = "STANDARD"


@dataclass(frozen=True)
class Setting[T]:
    """One variable's parsed value; None where this function's environment does not give it."""

    variable: str
    value: T | None

    def required(self) -> T:
        if self.value is None:
            raise SettingsError(f"{self.variable} is not set: this function's environment (template.yaml) must give it")
        return self.value

    def or_default(self, default: T) -> T:
        return default if self.value is None else self.value


@dataclass(frozen=True)
class Settings:
    # Every function has these two (template.yaml's Globals).
    batches_table: str
    items_bucket: str
    # Only the functions whose work needs them.
    reports_bucket: Setting[str]
    event_bus_name: Setting[str]
    state_machine_arn: Setting[str]
    webhook_secret_arn: Setting[str]
    idempotency_table: Setting[str]
    max_batches_per_hour: Setting[int]
    # How long a final batch, its items and its reports are kept (RETENTION_DAYS).
    retention: Setting[timedelta]
    allow_loopback_callbacks: bool = False
    # The longest a downstream call of an item may take: item margins of the chunk function are cut from it.
    contract_timeout_seconds: float = 5.0
    chunk_workflow_type: ChunkWorkflowType | None = None
    # How often a chunk writes its results; the template leaves it at its default.
    flush_seconds: float = 1.0
    # Only under `sam local`, which skips JWT authorizers (and sets AWS_SAM_LOCAL in its containers); the URL
    # comes from the template parameter LocalTokenIntrospectionUrl, empty when deployed.
    token_introspection_url: str | None = None
    # The whole environment, for the variables of operation families (settings.required("CONTENT_TABLE")).
    _environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Settings":
        env = MappingProxyType(dict(environ))
        read = _Reader(env)
        return cls(
            batches_table=read.text("BATCHES_TABLE").required(),
            items_bucket=read.text("ITEMS_BUCKET").required(),
            reports_bucket=read.text("REPORTS_BUCKET"),
            event_bus_name=read.text("EVENT_BUS_NAME"),
            state_machine_arn=read.text("STATE_MACHINE_ARN"),
            webhook_secret_arn=read.text("WEBHOOK_SECRET_ARN"),
            idempotency_table=read.text("IDEMPOTENCY_TABLE"),
            max_batches_per_hour=read.parsed("MAX_BATCHES_PER_HOUR", int, "an integer"),
            retention=read.parsed("RETENTION_DAYS", lambda days: timedelta(days=int(days)), "a whole number of days"),
            allow_loopback_callbacks=env.get("ALLOW_LOOPBACK_CALLBACKS") == "true",
            contract_timeout_seconds=read.parsed("CONTRACT_TIMEOUT_SECONDS", float, "a number of seconds").or_default(
                5.0
            ),
            chunk_workflow_type=read.parsed("CHUNK_WORKFLOW_TYPE", ChunkWorkflowType, "EXPRESS or STANDARD").value,
            flush_seconds=read.parsed("FLUSH_SECONDS", float, "a number of seconds").or_default(1.0),
            token_introspection_url=(
                read.text("LOCAL_TOKEN_INTROSPECTION_URL").value if env.get("AWS_SAM_LOCAL") == "true" else None
            ),
            _environ=env,
        )

    def required(self, variable: str) -> str:
        """A variable of an operation family; SettingsError naming it where this function's environment lacks it."""
        return _Reader(self._environ).text(variable).required()

    def optional(self, variable: str) -> str | None:
        """A variable of an operation family that may be absent (or empty: a template parameter left empty)."""
        return _Reader(self._environ).text(variable).value

    def parsed[T](self, variable: str, parse: Callable[[str], T], what: str) -> Setting[T]:
        """A variable of an operation family, parsed (`int`, "an integer"): SettingsError naming it if malformed."""
        return _Reader(self._environ).parsed(variable, parse, what)


@dataclass(frozen=True)
class _Reader:
    environ: Mapping[str, str]

    def text(self, variable: str) -> Setting[str]:
        # CloudFormation cannot leave a variable out for an empty parameter: an empty value means not set.
        return Setting(variable, self.environ.get(variable) or None)

    def parsed[T](self, variable: str, parse: Callable[[str], T], what: str) -> Setting[T]:
        raw = self.text(variable).value
        if raw is None:
            return Setting(variable, None)
        try:
            return Setting(variable, parse(raw))
        except ValueError:
            raise SettingsError(f"{variable} must be {what}, not {raw!r}") from None


@cache
def process_settings() -> Settings:
    """The settings of this execution environment, read from its environment on first use."""
    return Settings.from_environ(os.environ)
