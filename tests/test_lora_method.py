"""LiON-LoRA's pieces on the tiny CogVideoX: eq. 5, eq. 4, k = 1 fusion, branch independence, eq. 3."""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest
import torch

from lionlora.errors import AdapterError, ConfigError
from lionlora.lora.config import AdapterConfig, FusionConfig
from lionlora.lora.fusion import ActiveAdapter
from lionlora.lora.lion import LionLoRA
from lionlora.lora.norm import equalise_norms, fuse, output_norms
from lionlora.lora.scaling_token import fourier_features

pytestmark = pytest.mark.usefixtures("torch_single_thread")


@pytest.fixture(scope="module")
def rope(tiny_model_dir):
    from lionlora.apps.model import load_pipeline

    pipe = load_pipeline(tiny_model_dir, device="cpu")
    return pipe._prepare_rotary_positional_embeddings(32, 48, 3, torch.device("cpu"))


def fresh_transformer(model_dir):
    from diffusers import CogVideoXTransformer3DModel

    return CogVideoXTransformer3DModel.from_pretrained(model_dir / "transformer").eval()


def lion_with(model_dir, names, seed=0, **cfg):
    """A LionLoRA with adapters ``names`` whose weights are random (B != 0, so they act)."""
    lion = LionLoRA(fresh_transformer(model_dir))
    gen = torch.Generator().manual_seed(seed)
    for n in names:
        lion.add_adapter(AdapterConfig(name=n, rank=4, s_min=0.1, **cfg))
        for p in lion.adapter_parameters(n).values():
            p.data = torch.randn(p.shape, generator=gen) * 0.3
    return lion


def inputs(rope, batch=2, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return dict(
        hidden_states=torch.randn(batch, 3, 8, 4, 6, generator=gen),
        encoder_hidden_states=torch.randn(batch, 16, 32, generator=gen),
        timestep=torch.tensor([500, 120][:batch]),
        image_rotary_emb=rope,
        return_dict=False,
    )


# -- eq. 5 ------------------------------------------------------------------------------------


def test_fourier_features_known_values():
    g = fourier_features(torch.tensor([0.5, 0.25]), 3)
    expected = torch.tensor(
        [
            [1.0, 0.0, 0.0, -1.0, 0.0, 1.0],  # sin/cos of pi/2, pi, 2pi
            [math.sqrt(0.5), math.sqrt(0.5), 1.0, 0.0, 0.0, -1.0],  # pi/4, pi/2, pi
        ]
    )
    assert g.shape == (2, 6) and g.dtype == torch.float32
    torch.testing.assert_close(g, expected, atol=1e-7, rtol=0)
    s = torch.rand(5, dtype=torch.float64)
    g8 = fourier_features(s, 8).double()
    for j in range(8):
        torch.testing.assert_close(g8[:, 2 * j], torch.sin(2**j * math.pi * s), atol=1e-6, rtol=0)
        torch.testing.assert_close(g8[:, 2 * j + 1], torch.cos(2**j * math.pi * s), atol=1e-6, rtol=0)


# -- eq. 4 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("axes", ["sample", "token"])
def test_norm_equalisation(axes):
    gen = torch.Generator().manual_seed(0)
    scales = torch.tensor([0.01, 1.0, 30.0]).view(3, 1, 1, 1)
    deltas = torch.randn(3, 2, 7, 5, generator=gen, dtype=torch.float64) * scales
    out = equalise_norms(deltas, axes)
    before, after = output_norms(deltas, axes), output_norms(out, axes)
    alpha = before.mean(dim=0)
    for i in range(3):  # every adapter now has the mean norm alpha ...
        torch.testing.assert_close(after[i], alpha, rtol=1e-10, atol=0)
    cos = (out * deltas).sum(-1) / (out.norm(dim=-1) * deltas.norm(dim=-1))  # ... and its own direction
    torch.testing.assert_close(cos, torch.ones_like(cos), rtol=1e-10, atol=0)
    assert torch.equal(equalise_norms(deltas[:1], axes), deltas[:1])  # one adapter: identity
    assert torch.equal(equalise_norms(deltas, "none"), deltas)


def test_norm_rows_mask_and_zero_output():
    gen = torch.Generator().manual_seed(0)
    deltas = torch.randn(2, 1, 6, 4, generator=gen, dtype=torch.float64)
    deltas[1, :, 5] *= 1e6  # a huge token row must not drive the factor
    rows = torch.tensor([True] * 5 + [False])
    out = equalise_norms(deltas, "sample", rows)
    n = output_norms(out, "sample", rows)
    torch.testing.assert_close(n[0], n[1], rtol=1e-10, atol=0)
    zero = torch.stack([torch.zeros(1, 6, 4, dtype=torch.float64), deltas[0]])
    assert torch.equal(equalise_norms(zero, "sample")[0], zero[0])


def test_fuse_vanilla_is_weighted_sum():
    d = torch.randn(3, 2, 4, 5)
    torch.testing.assert_close(fuse(d, [0.5, 2.0, 1.0], "none"), 0.5 * d[0] + 2.0 * d[1] + d[2])


def test_norm_consistency_in_a_layer_removes_magnitude_dominance(tiny_model_dir):
    """Rescaling one LoRA by c changes the fused layer update only by a common factor (eq. 4);
    vanilla fusion lets that LoRA dominate."""
    from lionlora.lora.inject import lora_layers

    lion = lion_with(tiny_model_dir, ["a", "b"])
    layer = lora_layers(lion.transformer)["transformer_blocks.0.ff.net.0.proj"]
    x = torch.randn(2, 10, 32)
    base = layer.base_layer(x)
    active = [ActiveAdapter("a"), ActiveAdapter("b")]

    def update(mode):
        with lion.activate(active, FusionConfig(mode=mode)), torch.no_grad():
            return (layer(x) - base).double()

    lion_1, vanilla_1 = update("lion"), update("vanilla")
    with torch.no_grad():
        layer.lora_B["b"].weight.mul_(50.0)
    lion_50, vanilla_50 = update("lion"), update("vanilla")
    ratio = (lion_50.flatten(1) * lion_1.flatten(1)).sum(1) / lion_1.flatten(1).square().sum(1)
    torch.testing.assert_close(lion_50, lion_1 * ratio.view(2, 1, 1), rtol=1e-4, atol=1e-5)
    cos = torch.nn.functional.cosine_similarity(vanilla_50.flatten(1), vanilla_1.flatten(1), dim=1)
    assert (cos < 0.9).all()


# -- eq. 8 ------------------------------------------------------------------------------------


def test_one_lora_fusion_equals_single_lora_path(tiny_model_dir, rope):
    """k = 1 through the fusion machinery == peft's own LoRA forward + diffusers' processor + token."""
    from diffusers.models.attention_processor import CogVideoXAttnProcessor2_0

    from lionlora.lora.inject import lora_layers

    lion = lion_with(tiny_model_dir, ["a", "b"])
    kw = inputs(rope)
    with torch.no_grad():
        ours = {
            mode: lion(**kw, adapters=[ActiveAdapter("a", scale=0.4)], fusion=FusionConfig(mode=mode))[0]
            for mode in ("lion", "vanilla")
        }
        token = lion.tokens["a"](torch.full((2,), 0.4))
        ref = copy.deepcopy(lion.transformer)
        ref._forward_hooks.clear()
        ref.transformer_blocks[0]._forward_pre_hooks.clear()
        for layer in lora_layers(ref).values():
            layer._forward_hooks.clear()
            layer.enable_adapters(True)
            layer.set_adapter("a")
        for block in ref.transformer_blocks:
            block.attn1.set_processor(CogVideoXAttnProcessor2_0())

        def append(module, args, kwargs):
            return args, {**kwargs, "encoder_hidden_states": torch.cat([kwargs["encoder_hidden_states"], token], 1)}

        ref.transformer_blocks[0].register_forward_pre_hook(append, with_kwargs=True)
        expected = ref(**kw)[0]
        base = fresh_transformer(tiny_model_dir)(**kw)[0]
    assert torch.equal(ours["lion"], expected)
    assert torch.equal(ours["vanilla"], expected)
    assert not torch.allclose(expected, base, atol=1e-3)


@pytest.mark.parametrize("norm", ["sample", "none"])
def test_block_token_i_ignores_token_j(tiny_model_dir, rope, norm):
    """Through a whole block, scaling token i's output depends on [H; E_i] only (Fig. 8); without
    eq. 4 (which shares alpha between the LoRAs by definition) also not on adapter j's weights."""
    lion = lion_with(tiny_model_dir, ["a", "b", "c"])
    kw = inputs(rope)
    captured = {}
    lion.transformer.transformer_blocks[0].register_forward_hook(lambda m, a, out: captured.update(out=out))

    def run(scales):
        adapters = [ActiveAdapter(n, scale=s) for n, s in zip("abc", scales)]
        with torch.no_grad():
            lion(**kw, adapters=adapters, fusion=FusionConfig(norm=norm))
        return captured["out"]  # (video H, [text; E_a; E_b; E_c])

    n = 16  # text tokens
    h0, e0 = run([0.3, 0.6, 0.9])
    h1, e1 = run([0.3, 0.2, 0.9])  # token b perturbed
    assert torch.equal(e1[:, n], e0[:, n]) and torch.equal(e1[:, n + 2], e0[:, n + 2])
    assert not torch.allclose(e1[:, n + 1], e0[:, n + 1])
    assert not torch.allclose(h1, h0)  # the shared stream averages all branches
    if norm == "none":
        with torch.no_grad():
            for key, p in lion.adapter_parameters("b").items():
                if key.startswith("lora."):
                    p.mul_(3.0)
        h2, e2 = run([0.3, 0.6, 0.9])  # adapter b's LoRA changed
        assert torch.equal(e2[:, n], e0[:, n]) and torch.equal(e2[:, n + 2], e0[:, n + 2])
        assert not torch.allclose(e2[:, n + 1], e0[:, n + 1])


@pytest.mark.parametrize("norm", ["none", "sample"])
def test_attention_branch_i_unchanged_when_token_j_perturbed(tiny_model_dir, norm):
    """Eq. 8 at the attention layer: branch i attends over [H; E_i] only."""
    lion = lion_with(tiny_model_dir, ["a", "b", "c"])
    attn = lion.transformer.transformer_blocks[1].attn1
    gen = torch.Generator().manual_seed(3)
    video, text, tokens = (torch.randn(2, n, 32, generator=gen) for n in (18, 16, 3))
    st = lion.state

    def branches(tok):
        with lion.activate([ActiveAdapter(n, scale=0.5) for n in "abc"], FusionConfig(norm=norm)), torch.no_grad():
            st.text_len, st.n_tokens = 16, 3
            return attn.processor.branches(attn, video, torch.cat([text, tok], dim=1))

    h0, e0 = branches(tokens)
    perturbed = tokens.clone()
    perturbed[:, 1] += 1.0
    h1, e1 = branches(perturbed)
    for i in (0, 2):
        assert torch.equal(e1[i, :, 16], e0[i, :, 16])  # the branch's own token
        if norm == "none":
            assert torch.equal(h1[i], h0[i]) and torch.equal(e1[i], e0[i])
    assert not torch.allclose(h1[1], h0[1]) and not torch.allclose(e1[1, :, 16], e0[1, :, 16])


def test_vanilla_fusion_equals_merged_weights(tiny_model_dir, rope):
    """Eq. 3: summing lambda_i * LoRA outputs == one model with W + sum_i lambda_i Delta W_i."""
    from lionlora.lora.inject import lora_layers

    lion = lion_with(tiny_model_dir, ["a", "b"], scaling_token=False)
    kw = inputs(rope)
    weights = {"a": 0.7, "b": 1.6}
    with torch.no_grad():
        fused = lion(
            **kw, adapters=[ActiveAdapter(n, weight=w) for n, w in weights.items()], fusion=FusionConfig(mode="vanilla")
        )[0]
        merged = fresh_transformer(tiny_model_dir)
        modules = dict(merged.named_modules())
        for name, layer in lora_layers(lion.transformer).items():
            delta = sum(
                w * layer.scaling[n] * layer.lora_B[n].weight @ layer.lora_A[n].weight for n, w in weights.items()
            )
            modules[name].weight += delta
        expected = merged(**kw)[0]
    torch.testing.assert_close(fused, expected, rtol=1e-4, atol=1e-5)


def test_activation_rejects_bad_inputs(tiny_model_dir):
    lion = lion_with(tiny_model_dir, ["a"])
    lion.add_adapter(AdapterConfig(name="plain", rank=2, scaling_token=False))
    with pytest.raises(AdapterError, match="loaded adapters"), lion.activate([ActiveAdapter("nope")]):
        pass
    for bad in (0.05, 1.2, float("nan")):
        with pytest.raises(AdapterError, match=r"S in \[s_min, 1\]"), lion.activate([ActiveAdapter("a", scale=bad)]):
            pass
    with pytest.raises(AdapterError, match="scaling token"), lion.activate([ActiveAdapter("plain", scale=0.5)]):
        pass
    with (
        pytest.raises(AdapterError, match="all fused adapters or for none"),
        lion.activate([ActiveAdapter("a", scale=0.5), ActiveAdapter("plain")]),
    ):
        pass
    with pytest.raises(AdapterError, match="not yet loaded"):
        lion.add_adapter(AdapterConfig(name="a", rank=2))


def test_s_min_given_in_float32_is_accepted():
    """The pairs stage writes S = F / N exactly; training batches carry it as float32."""
    import types

    import torch

    from lionlora.errors import AdapterError
    from lionlora.lora.lion import LionLoRA

    fake = types.SimpleNamespace(configs={"m": types.SimpleNamespace(s_min=13 / 49)})
    LionLoRA.check_scale(fake, "m", torch.tensor([13 / 49], dtype=torch.float32))
    with pytest.raises(AdapterError, match="s_min"):
        LionLoRA.check_scale(fake, "m", torch.tensor([0.26], dtype=torch.float32))


def _with_copy(lion, name: str, copy_name: str) -> None:
    """Add adapter ``copy_name`` with exactly ``name``'s weights (LoRA and token)."""
    lion.add_adapter(dataclasses.replace(lion.configs[name], name=copy_name))
    for p, q in zip(lion.adapter_parameters(name).values(), lion.adapter_parameters(copy_name).values()):
        q.data = p.data.clone()


@pytest.mark.parametrize("norm", ["sample", "none"])
def test_adapter_fused_with_its_copy_equals_the_adapter_alone(tiny_model_dir, rope, norm):
    """One merge rule in every layer: with the paper's averaging, attention and FFN alike, fusing
    an adapter with an exact copy of itself changes nothing; summing does (in both)."""
    lion = lion_with(tiny_model_dir, ["a"])
    _with_copy(lion, "a", "a2")
    kw = inputs(rope)
    with torch.no_grad():
        alone = lion(**kw, adapters=[ActiveAdapter("a", scale=0.4)], fusion=FusionConfig(norm=norm))[0]
        pair = [ActiveAdapter("a", scale=0.4), ActiveAdapter("a2", scale=0.4)]
        fused = lion(**kw, adapters=pair, fusion=FusionConfig(norm=norm))[0]
        base = lion(**kw, adapters=[])[0]
    torch.testing.assert_close(fused, alone, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        summed = lion(**kw, adapters=pair, fusion=FusionConfig(norm=norm, merge="sum"))[0]
    assert (summed - alone).norm() > 0.05 * (alone - base).norm()


def test_sum_merge_adds_the_branch_changes_in_attention(tiny_model_dir):
    """``sum``: attention output = adapter-free attention + the sum of the k branches' changes."""
    lion = lion_with(tiny_model_dir, ["a", "b"])
    attn = lion.transformer.transformer_blocks[0].attn1
    gen = torch.Generator().manual_seed(5)
    video, text, tokens = (torch.randn(2, n, 32, generator=gen) for n in (18, 16, 2))
    adapters = [ActiveAdapter(n, scale=0.5) for n in "ab"]
    with lion.activate(adapters, FusionConfig(norm="none", merge="sum")), torch.no_grad():
        lion.state.text_len, lion.state.n_tokens = 16, 2
        h, e = attn.processor(attn, video, torch.cat([text, tokens], dim=1))
        out_h, out_e = attn.processor.branches(attn, video, torch.cat([text, tokens], dim=1))
    with lion.activate([]), torch.no_grad():
        base_h, base_e = attn.processor.inner(attn, video, text)
    torch.testing.assert_close(h, base_h + (out_h - base_h).sum(0))
    torch.testing.assert_close(e[:, :16], base_e + (out_e[:, :, :16] - base_e).sum(0))


# -- the adapter's named options ----------------------------------------------------------------


def test_forward_scales_the_lora_update_by_alpha_over_rank(tiny_model_dir):
    """Delta = (lora_alpha / rank) B A x in every adapted layer (alpha 2 at rank 4: 0.5)."""
    from lionlora.lora.inject import lora_layers

    lion = LionLoRA(fresh_transformer(tiny_model_dir))
    lion.add_adapter(AdapterConfig(name="a", rank=4, lora_alpha=2.0))
    assert lion.configs["a"].alpha_over_rank == 0.5
    layer = lora_layers(lion.transformer)["transformer_blocks.1.attn1.to_v"]
    with torch.no_grad():
        layer.lora_B["a"].weight.normal_()
        x = torch.randn(2, 7, 32)
        with lion.activate([ActiveAdapter("a")]):
            delta = layer(x) - layer.base_layer(x)
    expected = 0.5 * x @ layer.lora_A["a"].weight.T @ layer.lora_B["a"].weight.T
    torch.testing.assert_close(delta, expected, rtol=1e-5, atol=1e-6)
    assert AdapterConfig(rank=8).alpha_over_rank == 1.0  # null alpha: the rank


def test_target_module_groups(tiny_model_dir):
    """'attention' (DimensionX) adapts q, k, v, out; the default adds the FFN (the paper)."""
    from lionlora.lora.config import ATTENTION_LINEARS, BLOCK_LINEARS

    assert AdapterConfig().target_modules == BLOCK_LINEARS
    assert AdapterConfig(target_modules=["attention"]).target_modules == ATTENTION_LINEARS
    assert AdapterConfig(target_modules=["attention", "attn1.to_q", "ff.net.2"]).target_modules == [
        *ATTENTION_LINEARS,
        "ff.net.2",
    ]
    counts = {}
    for targets in (["attention", "ffn"], ["attention"]):
        lion = LionLoRA(fresh_transformer(tiny_model_dir))
        lion.add_adapter(AdapterConfig(name="a", rank=4, target_modules=targets, scaling_token=False))
        counts[targets[-1]] = sum(p.numel() for p in lion.adapter_parameters("a").values())
    d, ff, layers, r = 32, 4 * 32, 2, 4  # the tiny model: width 32, FFN 4x, 2 blocks
    assert counts["attention"] == layers * 4 * r * (d + d)
    assert counts["ffn"] == counts["attention"] + layers * r * ((d + ff) + (ff + d))
    with pytest.raises(ConfigError, match="target_modules"):
        LionLoRA(fresh_transformer(tiny_model_dir)).add_adapter(AdapterConfig(name="a", target_modules=["mlp"]))
