"""Applications of the method (:mod:`lionlora.lora`) on CogVideoX: loading the model
(:mod:`~lionlora.apps.model`), training data and checkpoints (:mod:`~lionlora.apps.data`,
:mod:`~lionlora.apps.checkpoint`), training (:mod:`~lionlora.apps.train`), generation
(:mod:`~lionlora.apps.generate`), the analyses of Figs. 4-5 (:mod:`~lionlora.apps.analyze`) and the
demo model (:mod:`~lionlora.apps.demo_model`). Heavy libraries are imported where used.
"""
