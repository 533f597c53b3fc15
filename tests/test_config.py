from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from lionlora.config import apply_overrides, dump_config, from_dict, load_config, opt, to_dict
from lionlora.errors import ConfigError


@dataclass
class Inner:
    k: float = opt(1.0, "a number")


@dataclass
class Cfg:
    n: int = opt(3, "an int")
    mode: Literal["a", "b"] = opt("a", "a choice")
    sizes: list[int] = opt([1, 2], "a list")
    path: Path | None = opt(None, "a path")
    flag: bool = opt(False, "a flag")
    inner: Inner = field(default_factory=Inner)

    def __post_init__(self):
        if self.n < 0:
            raise ConfigError("Cfg", "n", "a non-negative integer", got=self.n)


def test_from_dict_coerces_and_nests():
    c = from_dict(Cfg, {"n": "4", "mode": "b", "sizes": "5,6", "path": "x/y", "flag": "yes", "inner": {"k": 2}})
    assert c == Cfg(n=4, mode="b", sizes=[5, 6], path=Path("x/y"), flag=True, inner=Inner(2.0))
    assert to_dict(c)["path"] == "x/y"


@pytest.mark.parametrize(
    "data, field_name",
    [
        ({"nn": 1}, "nn"),
        ({"n": "x"}, "n"),
        ({"mode": "c"}, "mode"),
        ({"inner": {"q": 1}}, "inner.q"),
        ({"n": -1}, "n"),
        ({"flag": "maybe"}, "flag"),
        ({"sizes": [1, "z"]}, r"sizes\[1\]"),
    ],
)
def test_bad_values_are_named(data, field_name):
    with pytest.raises(ConfigError, match=f"cfg.yaml: field '{field_name}'"):
        from_dict(Cfg, data, source="cfg.yaml")


def test_load_config_precedence(tmp_path):
    (tmp_path / "c.yaml").write_text("stage:\n  n: 5\n  mode: b\n")
    c = load_config(Cfg, tmp_path / "c.yaml", section="stage", values={"n": 7}, overrides=["inner.k=3.5"])
    assert (c.n, c.mode, c.inner.k) == (7, "b", 3.5)
    dump_config(c, tmp_path / "resolved.json")
    assert load_config(Cfg, values=__import__("json").loads((tmp_path / "resolved.json").read_text())) == c
    assert apply_overrides({"a": {"b": 1}}, ["a.c=[1, 2]"]) == {"a": {"b": 1, "c": [1, 2]}}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides({}, ["novalue"])
    with pytest.raises(ConfigError, match="no such file"):
        load_config(Cfg, tmp_path / "missing.yaml")


def test_resolve_device_one_rule_for_every_stage(monkeypatch):
    import torch

    from lionlora.device import resolve_device
    from lionlora.errors import DependencyError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu") and resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(DependencyError, match="train: device 'cuda:1' requested but CUDA is not available"):
        resolve_device("cuda:1", "train")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda") and resolve_device("cuda:1") == torch.device("cuda:1")
