import numpy as np
import pytest
from skimage import data

from lionlora.errors import ConfigError, VideoError
from lionlora.flow import FlowConfig, flow_magnitude, pair_magnitudes


def translating(speed, t=8, h=240, w=360, image="astronaut"):
    """Frames of a real photograph shifting by ``speed`` pixels per frame (integer crops)."""
    img = getattr(data, image)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    big = np.concatenate([img, img[:, ::-1]], axis=1)
    return np.stack([big[100 : 100 + h, 10 + i * speed : 10 + i * speed + w] for i in range(t)])


@pytest.mark.parametrize(
    "backend, image",
    [
        ("dis", "astronaut"),
        ("dis", "gravel"),
        # Farneback reports ~0 flow in flat regions (aperture problem): exact only on texture everywhere
        ("farneback", "gravel"),
    ],
)
@pytest.mark.parametrize("speed", [2, 4])
def test_known_translation_within_5_percent(backend, image, speed):
    frames = translating(speed, image=image)
    mag = flow_magnitude(frames, FlowConfig(backend=backend))  # analysis size == frame size here
    assert mag == pytest.approx(speed, rel=0.05)


def test_analysis_resolution_makes_sizes_compare():
    frames = translating(4, h=240, w=360)
    small = np.stack([f[::2, ::2] for f in frames])  # same motion at half size: 2 px per frame
    a = flow_magnitude(frames)
    b = flow_magnitude(small)  # resized up to 240x360 for analysis: 4 px per frame again
    assert b == pytest.approx(a, rel=0.1)


def test_stride_and_static():
    frames = translating(2, t=9)
    assert len(pair_magnitudes(frames, FlowConfig(stride=2))) == 4
    still = np.repeat(frames[:1], 5, axis=0)
    assert flow_magnitude(still) < 0.05


def test_bad_inputs():
    with pytest.raises(VideoError, match="two frames"):
        flow_magnitude(translating(2, t=1))
    with pytest.raises(VideoError, match="uint8"):
        flow_magnitude(translating(2).astype(np.float32))
    with pytest.raises(ConfigError, match="backend"):
        FlowConfig(backend="magic")


def test_displacement_percentiles_counts_a_small_moving_region():
    """A textured square on 1% of the frame moving 1.5 px/frame: the 99.9th percentile over an 8-frame
    gap reads its speed (in fractions of the short side per frame); fresh sensor noise on a still frame stays an order of magnitude below."""
    import cv2

    from lionlora.flow import FlowConfig, displacement_percentiles

    rng = np.random.default_rng(0)
    cfg = FlowConfig(height=240, width=360)
    patch = cv2.GaussianBlur(rng.uniform(0, 255, (24, 24)), (0, 0), 1.5)
    frames = np.full((17, 240, 360, 3), 96, np.uint8)
    for t in range(17):
        x = 100 + int(round(1.5 * t))
        frames[t, 100:124, x : x + 24] = patch[..., None].astype(np.uint8)
    speed = displacement_percentiles(frames, cfg, gap=8, percentile=99.9)
    assert speed.shape == (3,)  # pairs (0, 8), (4, 12), (8, 16)
    assert np.allclose(speed, 1.5 / 240, rtol=0.25), speed * 240

    # still frames whose only change is noise of std 3, on the flat grey and on the moving texture
    still = np.clip(frames[8:9].astype(float) + rng.normal(0, 3, (17, 240, 360, 1)), 0, 255).astype(np.uint8)
    assert displacement_percentiles(still, cfg, gap=8, percentile=99.9).max() < 0.1 * 1.5 / 240
    # without the texture test, flow on the flat grey matches the noise and reads as fast motion
    assert displacement_percentiles(still, cfg, gap=8, percentile=99.9, min_texture=0).min() > 1.0 / 240
