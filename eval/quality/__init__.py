"""Video quality and motion linearity: FVD from a local I3D, flow/camera Pearson, the paper's figures.

Modules (import what you need; this package imports nothing heavy):

* :mod:`lionlora.eval.quality.i3d` -- the Inception-I3D module (VideoGPT/TATS state-dict layout);
* :mod:`lionlora.eval.quality.weights` -- loading TorchScript or state-dict weights, SHA-256 pins, random init;
* :mod:`lionlora.eval.quality.presets` -- named preprocessing presets, range checks, frame selection;
* :mod:`lionlora.eval.quality.features` -- video discovery and the per-video feature cache;
* :mod:`lionlora.eval.quality.frechet` -- the Frechet distance with its documented options;
* :mod:`lionlora.eval.quality.fvd` -- FVD of two folders, recorded in fvd.json;
* :mod:`lionlora.eval.quality.motion` -- Pearson of S vs optical-flow magnitude or camera motion;
* :mod:`lionlora.eval.quality.figures` -- Fig. 6 and Fig. 10.
"""
