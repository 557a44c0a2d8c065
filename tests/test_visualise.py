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


def test_held_out_cases_show_no_weak_column_and_one_column_per_prediction(sample, tmp_path):
    from nnunet_weak.visualise import render_cases

    case = sample.cases()[-1]
    labels = sample.folder / "labelsTr"
    [png] = render_cases(sample.folder, [case], tmp_path, dense=sample.folder, weak_column=False,
                         predictions={"ours": labels, "stock": labels})
    # image, dense truth, ours, stock: the held-out case's dense label is never drawn as a weak annotation
    assert imread(png).shape[:2] == (int(6 * 2.2 * 80), int(4 * 2.2 * 80))


def test_voxels_are_drawn_at_their_physical_aspect_ratio():
    from nnunet_weak.visualise import panel_aspect

    spacing = (3.0, 1.0, 0.5)  # array order z, y, x in mm
    assert panel_aspect(spacing, axis=0) == 1.0 / 0.5  # a (y, x) plane: rows 1 mm, columns 0.5 mm
    assert panel_aspect(spacing, axis=1) == 3.0 / 0.5  # (z, x)
    assert panel_aspect(spacing, axis=2) == 3.0 / 1.0  # (z, y)


def test_partly_annotated_slices_are_shown_when_other_slices_hold_nothing():
    from nnunet_weak.visualise import _slice_positions

    foreground = np.zeros((20, 10, 10), bool)
    foreground[2:18, 3:7, 3:7] = True
    scribbled = np.zeros_like(foreground)
    scribbled[1::4, 4, 2:8] = True  # strokes on every 4th slice, none of them filling its slice
    rows = _slice_positions(foreground, scribbled, axis=0)
    assert len(rows) == 2 and sum(r % 4 == 1 for r in rows) == 1  # one scribbled, one not
    everywhere = np.zeros_like(foreground)
    everywhere[:, 4, :] = True  # every slice holds some: thirds of the foreground's extent, as before
    assert _slice_positions(foreground, everywhere, axis=0) == [7, 12]
