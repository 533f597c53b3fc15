"""LiON-LoRA on CogVideoX (Sec. 3.1-3.5), the method itself: norm-consistent LoRA adapters with
scaling tokens and training-free fusion.

The pieces: :mod:`~lionlora.lora.inject` (peft injection), :mod:`~lionlora.lora.norm` (eq. 4),
:mod:`~lionlora.lora.scaling_token` (eqs. 5-7), :mod:`~lionlora.lora.fusion` (eq. 8),
:class:`~lionlora.lora.lion.LionLoRA` (a transformer with adapters) and :mod:`~lionlora.lora.io`
(adapter files). Training, generation, analyses and the demo model are applications of it, in
:mod:`lionlora.apps`. Heavy libraries are imported where used.
"""
