import numpy as np
from matplotlib.image import imread

from nnunet_weak.cli import main
from nnunet_weak.visualise import overlay


def test_show_renders_one_png_per_case_with_all_columns(sample, tmp_path):
    weak = tmp_path / "Dataset150_W"
    main(["slices", "-i", str(sample.folder), "-o", str(weak), "--axes", "0", "1", "--count", "2"])
    case = sample.cases()[0]
    assert main(["show", "-i", str(weak), "--dense", str(sample.folder), "--pred", str(sample.folder / "labelsTr"),
                 "--cases", case, "-o", str(tmp_path / "png")]) == 0
    picture = imread(tmp_path / "png" / f"{case}.png")
    # 4 columns (image, truth, weak, prediction) x 6 rows (2 slices x 3 axes), 2.2 in per panel at 80 dpi
    assert picture.shape[:2] == (int(6 * 2.2 * 80), int(4 * 2.2 * 80))


def test_overlay_greys_out_ignore_and_colours_classes():
    image = np.linspace(0, 1, 16).reshape(4, 4)
    labels = np.array([[0, 1, 2, 3]] * 4)
    rgb = overlay(image, labels, ignore_label=3)
    plain = overlay(image, None, None)
    assert np.allclose(rgb[:, 0], plain[:, 0])
    assert not np.allclose(rgb[:, 1], plain[:, 1]) and not np.allclose(rgb[:, 1], rgb[:, 2])
    assert np.allclose(rgb[:, 3, 0], rgb[:, 3, 1])  # ignore: grey veil, no hue
