"""Reading template.yaml: CloudFormation's YAML tags, parameters, conditions, Globals and intrinsic functions.

Only what our template uses is supported; anything else fails loudly, naming what is missing, so the
offline stack never silently diverges from what `sam deploy` would create."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TAGS = ("Ref", "GetAtt", "Sub", "If", "Equals", "Not", "And", "Or", "Join", "Select", "Condition")
_NO_VALUE = object()


class TemplateError(Exception):
    """The template uses something the offline stack cannot reproduce."""


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag_constructor(name: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            raise TemplateError(f"cannot read !{name} here")
        return {key: value}

    return construct


for _tag in _TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _tag_constructor(_tag))


def load_template(path: Path) -> dict[str, Any]:
    with path.open() as f:
        template: dict[str, Any] = yaml.load(f, Loader=_CfnLoader)  # noqa: S506 - SafeLoader plus CFN tags only
    return template


@dataclass
class Context:
    """What intrinsic functions resolve against: pseudo parameters, parameters and deployed resources."""

    region: str
    account_id: str
    stack_name: str
    parameters: dict[str, str]
    conditions: dict[str, bool] = field(default_factory=dict)
    # Resolves a logical id (Ref) or (logical id, attribute) (GetAtt), deploying the resource if needed.
    ref_resource: Callable[[str], str] = lambda name: _missing(name)
    get_att: Callable[[str, str], str] = lambda name, attr: _missing(f"{name}.{attr}")

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)


def _missing(name: str) -> str:
    raise TemplateError(f"nothing resolves {name}")


def resolve(value: Any, ctx: Context) -> Any:
    if isinstance(value, list):
        return [v for v in (resolve(v, ctx) for v in value) if v is not _NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return _intrinsic(key, arg, ctx)
    return {k: r for k, r in ((k, resolve(v, ctx)) for k, v in value.items()) if r is not _NO_VALUE}


def _intrinsic(key: str, arg: Any, ctx: Context) -> Any:
    if key == "Ref":
        return _ref(arg, ctx)
    if key == "Fn::GetAtt":
        name, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return ctx.get_att(name, attr)
    if key == "Fn::Sub":
        return _sub(arg, ctx)
    if key == "Fn::If":
        cond, if_true, if_false = arg
        return resolve(if_true if ctx.conditions[cond] else if_false, ctx)
    if key == "Fn::Equals":
        left, right = (resolve(a, ctx) for a in arg)
        return str(left) == str(right)
    if key == "Fn::Not":
        return not resolve(arg[0], ctx)
    if key == "Fn::And":
        return all(resolve(a, ctx) for a in arg)
    if key == "Fn::Or":
        return any(resolve(a, ctx) for a in arg)
    if key == "Condition":
        return ctx.conditions[arg]
    if key == "Fn::Join":
        delimiter, parts = arg
        return str(delimiter).join(str(p) for p in resolve(parts, ctx))
    if key == "Fn::Select":
        index, items = arg
        return resolve(items, ctx)[int(resolve(index, ctx))]
    raise TemplateError(f"the offline stack does not support {key}")


def _ref(name: str, ctx: Context) -> Any:
    if name == "AWS::NoValue":
        return _NO_VALUE
    pseudo = ctx.pseudo(name)
    if pseudo is not None:
        return pseudo
    if name in ctx.parameters:
        return ctx.parameters[name]
    return ctx.ref_resource(name)


def _sub(arg: Any, ctx: Context) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1], ctx))
    out, i = [], 0
    while (start := text.find("${", i)) >= 0:
        end = text.index("}", start)
        out.append(text[i:start])
        name = text[start + 2 : end]
        if name.startswith("!"):
            out.append("${" + name[1:] + "}")
        elif name in variables:
            out.append(str(variables[name]))
        elif "." in name and ctx.pseudo(name) is None:
            resource, attr = name.split(".", 1)
            out.append(str(ctx.get_att(resource, attr)))
        else:
            out.append(str(_ref(name, ctx)))
        i = end + 1
    out.append(text[i:])
    return "".join(out)


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    values = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
    return values


def evaluate_conditions(template: Mapping[str, Any], ctx: Context) -> dict[str, bool]:
    conditions: dict[str, bool] = {}
    ctx.conditions = conditions
    for name, expression in template.get("Conditions", {}).items():
        conditions[name] = bool(resolve(expression, ctx))
    return conditions


def with_globals(properties: Mapping[str, Any], globals_: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's rule: maps merge (the resource wins), lists concatenate, scalars are overridden."""
    merged: dict[str, Any] = dict(globals_)
    for key, value in properties.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = with_globals(value, base)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged
