"""3D Gaussian Splatting: the model, ``.ply`` I/O, two rasterisers (pure PyTorch; gsplat on CUDA),
reconstruction with densification, and an optional nerfstudio engine."""

from pipelines.gaussians.config import ReconstructConfig
from pipelines.gaussians.engines import get_engine, resolve_engine
from pipelines.gaussians.model import Gaussians, init_from_points, init_from_scene
from pipelines.gaussians.ply import read_ply, write_ply
from pipelines.gaussians.strategy import DensifyConfig
from pipelines.gaussians.train import reconstruct

__all__ = ["ReconstructConfig", "DensifyConfig", "Gaussians", "get_engine", "resolve_engine", "init_from_points",
           "init_from_scene", "read_ply", "write_ply", "reconstruct"]
