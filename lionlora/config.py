"""Typed dataclass configs: build from YAML/dicts with named errors, override, dump.

Every stage declares one dataclass whose fields carry help text (``opt(default, "help")``) and
whose ``__post_init__`` rejects bad values with :class:`ConfigError`. This module turns YAML
sections and command-line overrides into those dataclasses and writes the resolved config next
to outputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from lionlora.checks import is_finite_number  # noqa: F401 (re-exported: lionlora.config.is_finite_number)
from lionlora.errors import ConfigError
from lionlora.io.files import write_json

T = TypeVar("T")


def opt(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field with a default and help text (lists/dicts get a default factory)."""
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata={"help": help}, **kwargs)
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def _coerce(value: Any, tp: Any, source: str, key: str) -> Any:
    """Convert ``value`` to the annotated type ``tp`` or raise :class:`ConfigError`."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, source, key)
            except ConfigError as exc:
                errors.append(exc.expected)
        raise ConfigError(source, key, " or ".join(errors), got=value)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(source, key, f"one of {list(choices)}", got=value)
        return value
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(source, key, "a list", got=value)
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(source, key, f"a list of {len(args)} values", got=value)
            return tuple(_coerce(v, a, source, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        items = [_coerce(v, item, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(source, key, "a mapping", got=value)
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_dict(tp, value, source, prefix=f"{key}.")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        raise ConfigError(source, key, "true or false", got=value)
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(source, key, "an integer", got=value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(source, key, "an integer", got=value)
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(source, key, "a number", got=value)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(source, key, "a number", got=value)
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(source, key, "a string", got=value)
    if tp is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise ConfigError(source, key, "a path", got=value)
    return value


def closest_name(name: str, names) -> str | None:
    """The valid name nearest to a misspelled one (difflib), or None when nothing is close."""
    match = difflib.get_close_matches(str(name), [str(n) for n in names], n=1, cutoff=0.6)
    return match[0] if match else None


def unknown_key_error(source: str | Path, key: str, names, owner: str) -> ConfigError:
    """The error of an unknown key ``a.b.key``: names it and the closest valid name of ``names``."""
    parent, _, name = key.rpartition(".")
    near = closest_name(name, names)
    if near:
        expected = f"an option of {owner}: did you mean '{parent + '.' if parent else ''}{near}'?"
    else:
        expected = f"an option of {owner}, one of {', '.join(sorted(map(str, names)))}"
    return ConfigError(source, key, expected, got="unknown option")


def from_dict(cls: type[T], data: dict | None, source: str = "config", prefix: str = "") -> T:
    """Build dataclass ``cls`` from a mapping; unknown keys and bad values raise ConfigError.

    Args:
        cls: the dataclass type.
        data: the mapping (None means all defaults).
        source: where the mapping came from (a file name), used in error messages.
        prefix: dotted prefix of nested keys, used in error messages.
    """
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(source, prefix.rstrip(".") or "", "a mapping of options", got=data)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise unknown_key_error(source, prefix + unknown[0], fields, cls.__name__)
    kwargs = {name: _coerce(value, hints[name], source, prefix + name) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        if exc.source in ("config", cls.__name__):
            raise ConfigError(source, prefix + exc.field, exc.expected, exc.got) from None
        raise
    except TypeError as exc:
        raise ConfigError(source, prefix.rstrip("."), f"the required options of {cls.__name__}", got=str(exc)) from None


def to_dict(obj: Any) -> Any:
    """Plain-data (JSON/YAML-ready) view of a dataclass config."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, naming the file in errors."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "", "an existing YAML config file", got="no such file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(path, "", f"valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, "", "a YAML mapping at the top level", got=type(data).__name__)
    return data


def apply_overrides(data: dict, overrides: list[str], source: str = "--set") -> dict:
    """Apply ``key.sub=value`` overrides (values parsed as YAML scalars) to a nested mapping."""
    import yaml

    out = dict(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(source, item, "KEY=VALUE")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for p in parts[:-1]:
            child = node.get(p)
            node[p] = dict(child) if isinstance(child, dict) else {}
            node = node[p]
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError:
            node[parts[-1]] = raw
    return out


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    section: str | None = None,
    overrides: list[str] | None = None,
    values: dict | None = None,
) -> T:
    """Resolve a stage config: defaults < YAML file (optionally one section) < values < overrides."""
    data: dict = {}
    source = "config"
    if path is not None:
        source = str(path)
        data = load_yaml(path)
        if section is not None:
            data = data.get(section) or {}
    if values:
        data = {**data, **{k: v for k, v in values.items() if v is not None}}
    if overrides:
        data = apply_overrides(data, overrides)
    return from_dict(cls, data, source)


def dump_config(obj: Any, path: str | Path) -> Path:
    """Write the resolved config as JSON next to an output (atomically)."""
    return write_json(path, to_dict(obj))


def add_config_options(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add ``--config FILE``, ``--set KEY=VALUE`` and one ``--field-name`` option per scalar field.

    Options default to None so that only what the user typed overrides the file; read the result
    back with :func:`config_from_args`.
    """
    parser.add_argument("--config", type=Path, default=None, help="YAML config file with this stage's options")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any option, nested keys with dots (repeatable)",
    )
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        tp = hints[f.name]
        args = [a for a in get_args(tp) if a is not type(None)]
        base = args[0] if get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1 else tp
        if dataclasses.is_dataclass(base) or get_origin(base) in (list, tuple, dict):
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        if "default" not in help_text:
            help_text = f"{help_text} (default: {default})"
        if get_origin(base) is Literal:
            parser.add_argument(flag, dest=f"cfg_{f.name}", default=None, choices=list(get_args(base)), help=help_text)
        else:
            metavar = {int: "N", float: "X", bool: "BOOL", Path: "PATH"}.get(base, "VALUE")
            parser.add_argument(flag, dest=f"cfg_{f.name}", default=None, metavar=metavar, help=help_text)


def config_from_args(cls: type[T], args: argparse.Namespace, section: str | None = None) -> T:
    """The config selected by :func:`add_config_options` options."""
    values = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    return load_config(
        cls, getattr(args, "config", None), section=section, overrides=getattr(args, "overrides", []), values=values
    )
