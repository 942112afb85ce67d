"""Figures: valid PNGs of the expected layout; overlay blends as documented."""
import numpy as np
import pytest

from mmfusion.xai import explanation_grid, overlay, shap_bar, shap_beeswarm

RNG = np.random.default_rng(0)
PNG = b"\x89PNG\r\n\x1a\n"


def test_overlay_blend():
    image = np.linspace(0, 10, 16).reshape(4, 4, 1)
    heat = np.zeros((4, 4))
    heat[0, 0] = 2.0
    plain = overlay(image, heat, alpha=0.0)
    np.testing.assert_allclose(plain[..., 0], np.linspace(0, 1, 16).reshape(4, 4))
    full = overlay(image, heat, alpha=1.0, cmap="gray")
    np.testing.assert_allclose(full[..., 0], heat / 2.0, atol=1e-2)  # the gray colormap of heat
    assert plain.shape == (4, 4, 3) and full.min() >= 0 and full.max() <= 1
    with pytest.raises(ValueError, match="does not match"):
        overlay(image, np.zeros((3, 3)))


def test_grid_bar_and_beeswarm_are_pngs(tmp_path):
    import matplotlib.image as mpimg

    images = RNG.uniform(size=(2, 16, 16, 1))
    maps = {m: RNG.uniform(size=(2, 16, 16)) for m in ["Grad-CAM", "Grad-CAM++", "Score-CAM",
                                                         "LIME", "SHAP"]}
    grid = explanation_grid(tmp_path / "figures" / "grid.png", images, maps, titles=["a", "b"])
    phi = RNG.normal(size=(30, 5))
    names = ["density", "mass shape", "margins", "calc type", "calc distribution"]
    bar = shap_bar(tmp_path / "figures" / "bar.png", phi, names)
    swarm = shap_beeswarm(tmp_path / "figures" / "swarm.png", phi, RNG.normal(size=(30, 5)), names)
    for path in (grid, bar, swarm):
        assert path.read_bytes()[:8] == PNG
    h, w = mpimg.imread(grid).shape[:2]
    assert w > 2 * h  # 6 columns, 2 rows
    assert not list((tmp_path / "figures").glob(".*"))  # no temp files left behind
    with pytest.raises(ValueError, match="3 maps for 2 images"):
        explanation_grid(tmp_path / "x.png", images, {"x": np.zeros((3, 16, 16))})
