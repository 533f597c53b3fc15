"""Video quality and motion linearity: FVD from a local I3D, flow/camera Pearson, the paper's figures.

Modules (import what you need; this package imports nothing heavy):

* :mod:`eval.quality.i3d` -- the Inception-I3D module (VideoGPT/TATS state-dict layout);
* :mod:`eval.quality.weights` -- loading TorchScript or state-dict weights, SHA-256 pins, random init;
* :mod:`eval.quality.presets` -- named preprocessing presets, range checks, frame selection;
* :mod:`eval.quality.features` -- video discovery and the per-video feature cache;
* :mod:`eval.quality.frechet` -- the Frechet distance with its documented options;
* :mod:`eval.quality.fvd` -- FVD of two folders, recorded in fvd.json;
* :mod:`eval.quality.motion` -- Pearson of S vs optical-flow magnitude or camera motion;
* :mod:`eval.quality.figures` -- Fig. 6 and Fig. 10.
"""
