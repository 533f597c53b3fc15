"""pycolmap (GLOMAP global mapper) reconstructs the embedded scene from its images alone."""

import numpy as np
import pycolmap

from lionlora.geometry import umeyama


def test_glomap_registers_every_frame(scene, tmp_path):
    db = tmp_path / "db.db"
    opts = pycolmap.FeatureExtractionOptions()
    opts.sift.max_num_features = 2048
    image_dir = scene.image_paths[0].parent
    pycolmap.extract_features(
        db, image_dir, camera_mode=pycolmap.CameraMode.SINGLE, extraction_options=opts, device=pycolmap.Device.cpu
    )
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap = 8
    pycolmap.match_sequential(db, pairing_options=pairing, device=pycolmap.Device.cpu)
    recs = pycolmap.global_mapping(db, image_dir, tmp_path / "out")
    best = max(recs.values(), key=lambda r: r.num_reg_images())
    assert best.num_reg_images() == len(scene)
    # the recovered centres match the ground truth up to a similarity transform
    by_name = {img.name: img for img in best.images.values()}
    est = np.array([by_name[p.name].projection_center() for p in scene.image_paths])
    gt = scene.cameras.centers
    sim = umeyama(est, gt)
    err = np.linalg.norm(sim.apply(est) - gt, axis=1)
    extent = np.linalg.norm(gt - gt.mean(0), axis=1).max()
    assert err.max() < 0.02 * extent
