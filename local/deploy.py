"""Deploying template.yaml into moto: every table, function, log group and state machine it declares."""

import io
import json
import re
import secrets
import string
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.template import (
    Context,
    TemplateError,
    evaluate_conditions,
    load_template,
    parameter_values,
    resolve,
    with_globals,
)

ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    layer_dirs: list[Path]
    timeout: int
    memory_mb: int


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # logical id
    authorized: bool


@dataclass(frozen=True)
class JwtAuthorizer:
    issuer: str
    audience: list[str]


@dataclass(frozen=True)
class EventRule:
    """An EventBridgeRule event of a function: EventBridge invokes `function` with events matching `pattern`."""

    function: str  # logical id
    pattern: dict[str, Any]


@dataclass
class Deployment:
    root: Path
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    rules: list[EventRule] = field(default_factory=list)
    authorizer: JwtAuthorizer | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)
    # Each deployed resource's attributes (Fn::GetAtt), by logical id.
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class _Deployed:
    ref: str
    attrs: dict[str, str]


class Deployer:
    def __init__(
        self,
        template_path: Path,
        stack_name: str,
        region: str,
        overrides: Mapping[str, str],
        session: boto3.session.Session,
    ) -> None:
        self._root = template_path.parent
        self._template = load_template(template_path)
        self._resources: dict[str, Any] = self._template["Resources"]
        self._globals = self._template.get("Globals", {})
        self._session = session
        self._deployed: dict[str, _Deployed] = {}
        self._in_progress: set[str] = set()
        self._ctx = Context(region, ACCOUNT_ID, stack_name, parameter_values(self._template, overrides))
        self._ctx.ref_resource = lambda name: self._deploy(name).ref
        self._ctx.get_att = self._get_att
        evaluate_conditions(self._template, self._ctx)
        self.deployment = Deployment(self._root)
        self._role_arn = ""

    def deploy(self) -> Deployment:
        iam = self._session.client("iam")
        self._role_arn = iam.create_role(
            RoleName=f"{self._ctx.stack_name}-execution", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
        )["Role"]["Arn"]
        for name in self._resources:
            if self._enabled(self._resources[name]):
                self._deploy(name)
        # A function's events may refer to resources that refer to the function (a rule on the state
        # machine that invokes it): as in CloudFormation, they are wired once everything exists.
        for name in self.deployment.functions:
            self._function_events(name)
        self.deployment.physical = {name: d.ref for name, d in self._deployed.items()}
        self.deployment.attributes = {name: d.attrs for name, d in self._deployed.items()}
        for name, output in self._template.get("Outputs", {}).items():
            if self._enabled(output):
                self.deployment.outputs[name] = str(resolve(output["Value"], self._ctx))
        return self.deployment

    def _enabled(self, declaration: Mapping[str, Any]) -> bool:
        condition = declaration.get("Condition")
        return condition is None or self._ctx.conditions[condition]

    def _get_att(self, name: str, attr: str) -> str:
        deployed = self._deploy(name)
        if attr not in deployed.attrs:
            raise TemplateError(f"{name} has no attribute {attr} offline")
        return deployed.attrs[attr]

    def _deploy(self, name: str) -> _Deployed:
        if name in self._deployed:
            return self._deployed[name]
        if name not in self._resources:
            raise TemplateError(f"Ref to unknown resource {name}")
        declaration = self._resources[name]
        if not self._enabled(declaration):
            raise TemplateError(f"{name} is referenced but its condition is false")
        if name in self._in_progress:
            raise TemplateError(f"circular reference through {name}")
        self._in_progress.add(name)
        kind = declaration["Type"]
        deploy = _DEPLOYERS.get(kind)
        if deploy is None:
            raise TemplateError(f"the offline stack cannot deploy {name} of type {kind}")
        self._deployed[name] = deploy(self, name, declaration.get("Properties", {}))
        self._in_progress.discard(name)
        return self._deployed[name]

    def _physical_name(self, name: str) -> str:
        return f"{self._ctx.stack_name}-{name}"

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self._ctx.region}:{ACCOUNT_ID}:{resource}"

    # --- one method per resource type -------------------------------------------------------------

    def _table(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        table = props.get("TableName") or self._physical_name(name)
        db = self._session.client("dynamodb")
        create: dict[str, Any] = {
            "TableName": table,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "GlobalSecondaryIndexes" in props:
            create["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "SSESpecification" in props:
            create["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
        reply = db.create_table(**create)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            db.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr:
            db.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification=pitr)
        return _Deployed(table, {"Arn": reply["TableDescription"]["TableArn"]})

    def _layer(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        path = (self._root / props["ContentUri"]).resolve()
        return _Deployed(self._arn("lambda", f"layer:{self._physical_name(name)}:1"), {"Path": str(path)})

    def _function(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        own = {key: value for key, value in raw.items() if key != "Events"}
        props = resolve(with_globals(own, self._globals.get("Function", {})), self._ctx)
        fn_name = props.get("FunctionName") or self._physical_name(name)
        env = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        layer_dirs = [Path(self._layer_path(arn)) for arn in props.get("Layers", [])]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            # moto stores code but never runs it: the invoker runs CodeUri in its worker processes instead.
            z.writestr(props["Handler"].split(".")[0] + ".py", "")
        reply = self._session.client("lambda").create_function(
            FunctionName=fn_name,
            Runtime=props["Runtime"],
            Role=self._role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": code.getvalue()},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": env},
        )
        spec = FunctionSpec(
            logical_id=name,
            name=fn_name,
            arn=reply["FunctionArn"],
            code_dir=(self._root / props["CodeUri"]).resolve(),
            handler=props["Handler"],
            environment=env,
            layer_dirs=layer_dirs,
            timeout=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )
        self.deployment.functions[name] = spec
        return _Deployed(fn_name, {"Arn": spec.arn})

    def _function_events(self, name: str) -> None:
        events = resolve(self._resources[name]["Properties"].get("Events", {}), self._ctx)
        for event in events.values():
            if event["Type"] == "HttpApi":
                self._route(name, event["Properties"])
            elif event["Type"] == "EventBridgeRule":
                self.deployment.rules.append(EventRule(name, event["Properties"]["Pattern"]))
            else:
                raise TemplateError(f"{name}: the offline stack cannot wire events of type {event['Type']}")

    def _layer_path(self, arn: str) -> str:
        for deployed in self._deployed.values():
            if deployed.ref == arn and "Path" in deployed.attrs:
                return deployed.attrs["Path"]
        raise TemplateError(f"layer {arn} is not declared in the template")

    def _route(self, function: str, props: Mapping[str, Any]) -> None:
        auth = props.get("Auth", {}).get("Authorizer")
        self.deployment.routes.append(
            Route(props["Method"].upper(), props["Path"], function, authorized=auth != "NONE")
        )

    def _http_api(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        auth = props.get("Auth", {})
        default = auth.get("DefaultAuthorizer")
        if default:
            jwt = auth["Authorizers"][default]["JwtConfiguration"]
            self.deployment.authorizer = JwtAuthorizer(jwt["issuer"], list(jwt["audience"]))
        return _Deployed(re.sub(r"[^a-z0-9]", "", name.lower())[:10], {})

    def _log_group(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        group = props.get("LogGroupName") or self._physical_name(name)
        logs = self._session.client("logs")
        logs.create_log_group(logGroupName=group)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=group, retentionInDays=int(props["RetentionInDays"]))
        return _Deployed(group, {"Arn": self._arn("logs", f"log-group:{group}:*")})

    def _state_machine(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        definition = (self._root / props["DefinitionUri"]).read_text()
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        leftover = re.findall(r"\$\{(\w+)\}", definition)
        if leftover:
            raise TemplateError(f"{name}: no DefinitionSubstitutions for {', '.join(sorted(set(leftover)))}")
        create: dict[str, Any] = {
            "name": props.get("Name") or self._physical_name(name),
            "definition": definition,
            "roleArn": self._role_arn,
            "type": props.get("Type", "STANDARD"),
            "tracingConfiguration": {"enabled": bool(props.get("Tracing", {}).get("Enabled", False))},
        }
        logging = props.get("Logging")
        if logging:
            create["loggingConfiguration"] = {
                "level": logging["Level"],
                "includeExecutionData": bool(logging.get("IncludeExecutionData", False)),
                "destinations": [
                    {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                    for d in logging.get("Destinations", [])
                ],
            }
        arn = self._session.client("stepfunctions").create_state_machine(**create)["stateMachineArn"]
        return _Deployed(arn, {"Arn": arn, "Name": create["name"]})

    def _bucket(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        bucket = props.get("BucketName") or self._physical_name(name).lower()[:63]
        s3 = self._session.client("s3")
        s3.create_bucket(Bucket=bucket)
        if "BucketEncryption" in props:
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        lifecycle = [
            {
                "ID": rule["Id"],
                "Status": rule["Status"],
                "Filter": {"Prefix": rule.get("Prefix", "")},
                **({"Expiration": {"Days": int(rule["ExpirationInDays"])}} if "ExpirationInDays" in rule else {}),
                **(
                    {"AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"]}
                    if "AbortIncompleteMultipartUpload" in rule
                    else {}
                ),
            }
            for rule in props.get("LifecycleConfiguration", {}).get("Rules", [])
        ]
        if lifecycle:
            # One call with every rule: each call replaces the bucket's whole lifecycle configuration.
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle})
        return _Deployed(bucket, {"Arn": f"arn:aws:s3:::{bucket}"})

    def _event_bus(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        arn = self._session.client("events").create_event_bus(Name=props["Name"])["EventBusArn"]
        return _Deployed(props["Name"], {"Arn": arn, "Name": props["Name"]})

    def _secret(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        props = resolve(raw, self._ctx)
        value = props.get("SecretString")
        if value is None:
            spec = props.get("GenerateSecretString", {})
            alphabet = string.ascii_letters + string.digits
            if not spec.get("ExcludePunctuation"):
                alphabet += string.punctuation
            value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
        arn = self._session.client("secretsmanager").create_secret(
            Name=props.get("Name") or self._physical_name(name), SecretString=value
        )["ARN"]
        return _Deployed(arn, {"Id": arn})

    def _watch_only(self, name: str, raw: Mapping[str, Any]) -> _Deployed:
        """Alarms, their topic and its subscription, the dashboard: they watch CloudWatch metrics, which the
        offline stack does not emulate (README). Resolved, so every Ref and Sub in them is checked; not created."""
        resolve(raw, self._ctx)
        physical = self._physical_name(name)
        return _Deployed(physical, {"Arn": self._arn("watch", physical)})


_DEPLOYERS = {
    "AWS::DynamoDB::Table": Deployer._table,
    "AWS::Serverless::LayerVersion": Deployer._layer,
    "AWS::Serverless::Function": Deployer._function,
    "AWS::Serverless::HttpApi": Deployer._http_api,
    "AWS::Logs::LogGroup": Deployer._log_group,
    "AWS::Serverless::StateMachine": Deployer._state_machine,
    "AWS::S3::Bucket": Deployer._bucket,
    "AWS::Events::EventBus": Deployer._event_bus,
    "AWS::SecretsManager::Secret": Deployer._secret,
    "AWS::SNS::Topic": Deployer._watch_only,
    "AWS::SNS::Subscription": Deployer._watch_only,
    "AWS::CloudWatch::Alarm": Deployer._watch_only,
    "AWS::CloudWatch::Dashboard": Deployer._watch_only,
}
