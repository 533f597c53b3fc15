"""A tiny random-init CogVideoX image-to-video pipeline for the CPU demo and the tests.

It has the structure of CogVideoX-5B-I2V (rotary + learned positional embeddings, image latents
concatenated on channels, a T5 text encoder, the 3D causal VAE with 8x spatial and 4x temporal
compression, the v-prediction DDIM scheduler) at toy sizes: a 2-block transformer of width 32, a
VAE with 8-16 channels and a 2-layer T5 whose SentencePiece tokenizer is trained here on a small
built-in text. It is written with ``save_pretrained`` and read back by
:func:`lionlora.apps.model.load_pipeline`, the same code that reads a hub id or a local copy of
the real model. Its weights are random: it exercises the code paths, it does not make videos
worth watching.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from lionlora.checks import is_4k_plus_1
from lionlora.config import opt
from lionlora.errors import ConfigError

log = logging.getLogger(__name__)

# Text the tokenizer is trained on: camera and motion captions of the kind the method uses.
_CORPUS = """\
the camera moves forward into a bright room with wooden boxes and posters on the walls
the camera moves backward away from the table while the lamp stays on
the camera orbits left around the centre of the scene
the camera orbits right around a statue in a garden
the camera pans left slowly across a street with parked cars
the camera pans right across a kitchen with a window
the camera moves up along a tall building facade
the camera moves down towards the floor of a museum hall
a dog runs across the grass and jumps over a stick
waves roll onto the beach while birds fly above the water
a person walks through a park under green trees
leaves move in the wind next to a river with small boats
a car drives along a road between hills at sunset
smoke rises from a chimney above snowy roofs
"""

# The scheduler of CogVideoX-5B-I2V (v-prediction on the zero-terminal-SNR DDPM schedule).
SCHEDULER_CONFIG = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": True,
    "steps_offset": 0,
    "prediction_type": "v_prediction",
    "rescale_betas_zero_snr": True,
    "snr_shift_scale": 1.0,
    "timestep_spacing": "trailing",
}


def decodes_whole(frames: int, temporal_compression: int) -> bool:
    """Whether the CogVideoX VAE decodes a clip of ``frames`` frames back to ``frames`` frames.

    True for 1 + k x ``temporal_compression`` frames with an odd number 1 + k of latent frames: the
    decoder's temporal upsampling keeps the first latent frame apart only for an odd count (13
    frames at 4x make 4 latent frames, which decode to 16).
    """
    k, rest = divmod(frames - 1, temporal_compression)
    return frames >= 1 and rest == 0 and k % 2 == 0


@dataclass
class TinyModelConfig:
    seed: int = opt(0, "random seed of the weights")
    height: int = opt(32, "native video height in pixels (multiple of 16)")
    width: int = opt(48, "native video width in pixels (multiple of 16)")
    frames: int = opt(9, "native number of frames (4k + 1)")
    heads: int = opt(2, "attention heads of the transformer")
    head_dim: int = opt(16, "channels per head (a multiple of 8 for the 3D RoPE)")
    layers: int = opt(2, "transformer blocks")
    text_tokens: int = opt(16, "text sequence length (max_text_seq_length)")
    text_dim: int = opt(32, "T5 width")
    latent_channels: int = opt(4, "VAE latent channels")
    vae_channels: list[int] = opt(
        [8, 8, 16, 16], "VAE block widths; spatial compression 2^(blocks - 1) (CogVideoX-5B: 128, 256, 256, 512)"
    )
    temporal_compression: int = opt(4, "VAE and transformer temporal compression: 1, 2 or 4 (CogVideoX: 4)")
    patch_size: int = opt(2, "transformer patch size in latent pixels (CogVideoX: 2)")
    vocab_size: int = opt(64, "SentencePiece vocabulary size (an upper bound)")

    @property
    def spatial_compression(self) -> int:
        return 2 ** (len(self.vae_channels) - 1)

    def __post_init__(self) -> None:
        if len(self.vae_channels) < 1 or any(int(c) < 1 or int(c) % 4 for c in self.vae_channels):
            raise ConfigError("TinyModelConfig", "vae_channels", "positive multiples of 4", got=self.vae_channels)
        if self.height % 16 or self.width % 16 or self.height <= 0 or self.width <= 0:
            raise ConfigError(
                "TinyModelConfig", "height/width", "positive multiples of 16", got=(self.height, self.width)
            )
        if not is_4k_plus_1(self.frames):
            raise ConfigError("TinyModelConfig", "frames", "4k + 1 frames", got=self.frames)
        if self.temporal_compression not in (1, 2, 4) or 2 ** (len(self.vae_channels) - 1) < self.temporal_compression:
            raise ConfigError(
                "TinyModelConfig",
                "temporal_compression",
                "1, 2 or 4, at most the spatial compression 2^(len(vae_channels) - 1)",
                got=(self.temporal_compression, self.vae_channels),
            )
        if not decodes_whole(self.frames, self.temporal_compression):
            raise ConfigError(
                "TinyModelConfig",
                "frames",
                f"an odd number of latent frames, 1 + (frames - 1) / temporal_compression "
                f"({self.temporal_compression}), so that the VAE decodes the clip to its own length",
                got=self.frames,
            )
        unit = self.spatial_compression * self.patch_size
        if self.height % unit or self.width % unit or self.patch_size < 1:
            raise ConfigError(
                "TinyModelConfig",
                "height/width/patch_size",
                f"sizes divisible by spatial compression x patch size = {unit}",
                got=(self.height, self.width, self.patch_size),
            )
        if self.head_dim % 8 or self.head_dim <= 0:
            raise ConfigError("TinyModelConfig", "head_dim", "a positive multiple of 8", got=self.head_dim)
        if self.layers < 1 or self.heads < 1 or self.text_tokens < 2:
            raise ConfigError(
                "TinyModelConfig",
                "layers/heads/text_tokens",
                "layers >= 1, heads >= 1, text_tokens >= 2",
                got=(self.layers, self.heads, self.text_tokens),
            )


def train_tokenizer(vocab_size: int):
    """A T5 tokenizer whose SentencePiece unigram model is trained on the built-in corpus."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_CORPUS.splitlines()),
        model_writer=proto,
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
        num_threads=1,
    )
    sp = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = [(sp.id_to_piece(i), float(sp.get_score(i))) for i in range(sp.get_piece_size())]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def build_tiny_pipeline(cfg: TinyModelConfig | None = None):
    """A random-init ``CogVideoXImageToVideoPipeline`` with toy sizes (see the module docstring)."""
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    cfg = cfg or TinyModelConfig()
    torch.manual_seed(cfg.seed)
    tokenizer = train_tokenizer(cfg.vocab_size)
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=cfg.text_dim,
            d_kv=8,
            d_ff=2 * cfg.text_dim,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=32,
            dropout_rate=0.0,
            feed_forward_proj="gated-gelu",
            pad_token_id=0,
            eos_token_id=1,
        )
    ).eval()
    blocks = len(cfg.vae_channels)
    vae = AutoencoderKLCogVideoX(
        down_block_types=("CogVideoXDownBlock3D",) * blocks,
        up_block_types=("CogVideoXUpBlock3D",) * blocks,
        block_out_channels=tuple(int(c) for c in cfg.vae_channels),
        latent_channels=cfg.latent_channels,
        layers_per_block=1,
        norm_num_groups=4,
        temporal_compression_ratio=cfg.temporal_compression,
        sample_height=cfg.height,
        sample_width=cfg.width,
    ).eval()
    spatial = cfg.spatial_compression
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=cfg.heads,
        attention_head_dim=cfg.head_dim,
        in_channels=2 * cfg.latent_channels,
        out_channels=cfg.latent_channels,
        time_embed_dim=4 * cfg.heads * cfg.head_dim // 2,
        text_embed_dim=cfg.text_dim,
        num_layers=cfg.layers,
        sample_width=cfg.width // spatial,
        sample_height=cfg.height // spatial,
        sample_frames=cfg.frames,
        temporal_compression_ratio=cfg.temporal_compression,
        patch_size=cfg.patch_size,
        max_text_seq_length=cfg.text_tokens,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True,
    )
    scheduler = CogVideoXDDIMScheduler(**SCHEDULER_CONFIG)
    return CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler
    )


def save_tiny_model(out: str | Path, cfg: TinyModelConfig | None = None) -> Path:
    """Build the tiny pipeline and write it with ``save_pretrained`` (atomically, as a folder)."""
    from lionlora.config import dump_config
    from lionlora.io.files import atomic_dir

    cfg = cfg or TinyModelConfig()
    out = Path(out)
    pipe = build_tiny_pipeline(cfg)
    with atomic_dir(out, "model_index.json") as tmp:
        pipe.save_pretrained(tmp, safe_serialization=True)
        dump_config(cfg, tmp / "tiny_model_config.json")
    n = sum(p.numel() for p in pipe.transformer.parameters())
    log.info("tiny CogVideoX I2V pipeline (%d transformer parameters) written to %s", n, out)
    return out
