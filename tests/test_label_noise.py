"""Self-correction of expanded foreground labels: only foreground the network calls background is dropped."""

import pytest
import torch

from nnunet_weak.losses.label_noise import reject_foreground

IGNORE = 3


def logits_for(background_probability: torch.Tensor) -> torch.Tensor:
    """(B, 3, *spatial) logits whose softmax gives the background channel ``background_probability``
    and splits the rest equally between the two foreground classes."""
    rest = (1 - background_probability) / 2
    return torch.stack([background_probability, rest, rest], 1).log()


def test_drops_only_foreground_labels_the_network_calls_background():
    labels = torch.tensor([[0, 1, 2, 1, 2, IGNORE, 0, 1]])
    p_background = torch.tensor([[0.9, 0.9, 0.7, 0.2, 0.5, 0.99, 0.1, 0.49]])
    target = labels[:, None].float()  # nnU-Net's (B, 1, *spatial) float target
    cleaned, dropped = reject_foreground(target, logits_for(p_background), IGNORE, threshold=0.5)
    assert cleaned.shape == target.shape and cleaned.dtype == target.dtype
    # voxel 1 (class 1, p_bg 0.9), 2 (class 2, 0.7) and 4 (class 2, exactly 0.5) dropped; background
    # labels (0, 6), the ignore voxel and foreground the network accepts (3, 7) untouched
    assert cleaned[:, 0].long().tolist() == [[0, IGNORE, IGNORE, 1, IGNORE, IGNORE, 0, 1]]
    assert dropped == 3
    assert labels.tolist() == [[0, 1, 2, 1, 2, IGNORE, 0, 1]]  # input not modified


def test_a_stricter_threshold_drops_less_and_nothing_is_dropped_for_a_confident_foreground():
    labels = torch.tensor([[[1, 2], [1, 0]]])
    p_background = torch.tensor([[[0.95, 0.8], [0.6, 0.99]]])
    cleaned, dropped = reject_foreground(labels, logits_for(p_background), IGNORE, threshold=0.9)
    assert cleaned.tolist() == [[[IGNORE, 2], [1, 0]]] and dropped == 1
    same, dropped = reject_foreground(labels, logits_for(torch.full((1, 2, 2), 0.05)), IGNORE)
    assert same is labels and dropped == 0


def test_at_most_max_share_of_each_class_is_dropped_the_most_confident_background_first():
    # class 1: 4 voxels all called background (p_bg 0.6, 0.9, 0.7, 0.8); class 2: 2 voxels (0.95, 0.55)
    labels = torch.tensor([[1, 1, 1, 1, 2, 2, 0]])
    p_background = torch.tensor([[0.6, 0.9, 0.7, 0.8, 0.95, 0.55, 0.9]])
    cleaned, dropped = reject_foreground(labels, logits_for(p_background), IGNORE, max_share=0.5)
    # class 1: 2 of 4 may go (0.9 and 0.8); class 2: 1 of 2 (0.95)
    assert cleaned.tolist() == [[1, IGNORE, 1, IGNORE, IGNORE, 2, 0]] and dropped == 3
    cleaned, dropped = reject_foreground(labels, logits_for(p_background), IGNORE, max_share=0.3)
    assert cleaned.tolist() == [[1, IGNORE, 1, 1, 2, 2, 0]] and dropped == 1  # 1 of 4; none of 2
    same, dropped = reject_foreground(labels, logits_for(p_background), IGNORE, max_share=0.0)
    assert same is labels and dropped == 0


def test_a_class_the_network_has_not_learnt_keeps_all_its_labels():
    # class 1: the network agrees with 3 of 4 labels; class 2: with 1 of 3
    labels = torch.tensor([[1, 1, 1, 1, 2, 2, 2]])
    p_background = torch.tensor([[0.9, 0.1, 0.2, 0.3, 0.8, 0.7, 0.2]])
    cleaned, dropped = reject_foreground(labels, logits_for(p_background), IGNORE, min_agreement=0.5)
    assert cleaned.tolist() == [[IGNORE, 1, 1, 1, 2, 2, 2]] and dropped == 1
    cleaned, dropped = reject_foreground(labels, logits_for(p_background), IGNORE, min_agreement=0.3)
    assert cleaned.tolist() == [[IGNORE, 1, 1, 1, IGNORE, IGNORE, 2]] and dropped == 3


def test_gradient_does_not_flow_through_the_rejection():
    logits = logits_for(torch.tensor([[0.9, 0.1]])).requires_grad_()
    cleaned, _ = reject_foreground(torch.tensor([[1, 1]]), logits, IGNORE)
    assert not cleaned.requires_grad


def test_bad_arguments_are_refused():
    logits = logits_for(torch.full((1, 4), 0.5))
    with pytest.raises(ValueError, match="threshold"):
        reject_foreground(torch.zeros(1, 4), logits, IGNORE, threshold=0.0)
    with pytest.raises(ValueError, match="max_share"):
        reject_foreground(torch.zeros(1, 4), logits, IGNORE, max_share=1.5)
    with pytest.raises(ValueError, match="min_agreement"):
        reject_foreground(torch.zeros(1, 4), logits, IGNORE, min_agreement=-0.1)
    with pytest.raises(ValueError, match="does not match"):
        reject_foreground(torch.zeros(1, 5), logits, IGNORE)


def test_trainer_rejects_at_every_deep_supervision_scale_with_a_ramped_cap():
    from types import SimpleNamespace

    from nnunet_weak.trainers.experimental import nnUNetTrainerPointSegSelfCorrect

    trainer = SimpleNamespace(reject_threshold=0.5, reject_max_share=0.5, reject_min_agreement=0.0,
                              reject_from=0.2, reject_ramp=0.4, progress=0.1,
                              label_manager=SimpleNamespace(ignore_label=IGNORE))
    trainer.training_progress = lambda: trainer.progress
    full = torch.tensor([[[1, 1, 1, 1], [2, 2, 0, 0]]])[:, None].float()  # (B, 1, 2, 4)
    half = torch.tensor([[[1, 1]]])[:, None].float()  # (B, 1, 1, 2)
    output = [logits_for(torch.tensor([[[0.9, 0.8, 0.7, 0.1], [0.9, 0.6, 0.9, 0.9]]])),
              logits_for(torch.tensor([[[0.7, 0.9]]]))]
    reject = nnUNetTrainerPointSegSelfCorrect.reject_noisy_foreground
    target, share = reject(trainer, output, [full, half])
    assert share == 0.0 and target[0] is full  # before reject_from the labels are taken as they are
    trainer.progress = 0.4  # half-way up the ramp: at most 0.25 of each class
    target, share = reject(trainer, output, [full, half])
    assert target[0][:, 0].long().tolist() == [[[IGNORE, 1, 1, 1], [2, 2, 0, 0]]]
    assert share == pytest.approx(1 / 6)  # of the full-resolution foreground labels
    trainer.progress = 0.9  # the full cap, 0.5
    target, share = reject(trainer, output, [full, half])
    assert target[0][:, 0].long().tolist() == [[[IGNORE, IGNORE, 1, 1], [IGNORE, 2, 0, 0]]]
    assert target[1][:, 0].long().tolist() == [[[1, IGNORE]]]
    assert share == pytest.approx(3 / 6)
    # the network accepts 1 of 4 class-1 labels at full resolution, none of class 2, none at half resolution
    trainer.reject_min_agreement = 0.25  # only class 1 at full resolution is corrected
    target, share = reject(trainer, output, [full, half])
    assert target[0][:, 0].long().tolist() == [[[IGNORE, IGNORE, 1, 1], [2, 2, 0, 0]]]
    assert target[1][:, 0].long().tolist() == [[[1, 1]]]
    assert share == pytest.approx(2 / 6)
