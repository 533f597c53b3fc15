"""LiON-LoRA on CogVideoX (Sec. 3.1-3.5): norm-consistent LoRA adapters with scaling tokens and
training-free fusion, their training, inference and analyses.

The pieces: :mod:`~lionlora.lora.inject` (peft injection), :mod:`~lionlora.lora.norm` (eq. 4),
:mod:`~lionlora.lora.scaling_token` (eqs. 5-7), :mod:`~lionlora.lora.fusion` (eq. 8),
:class:`~lionlora.lora.lion.LionLoRA` (a transformer with adapters), :mod:`~lionlora.lora.train`,
:mod:`~lionlora.lora.generate`, :mod:`~lionlora.lora.analyze`, :mod:`~lionlora.lora.io` (adapter
files) and :mod:`~lionlora.lora.tiny` (the demo model). Heavy libraries are imported where used.
"""
