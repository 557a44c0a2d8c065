"""Labelled and unlabelled cases in one nnU-Net training.

An unlabelled case is all ``ignore`` (``nnunet-weak semi``). :class:`SemiSupervisedMixin` makes
every training batch hold a fixed share of unlabelled cases (``unlabelled_fraction``, default half,
as DTML's two-stream sampler), drawn uniformly and cropped at random, while labelled cases keep
nnU-Net's foreground oversampling (at nnU-Net's rate, per patch). Validation, the EMA pseudo Dice
and hence ``checkpoint_best`` use labelled cases only; unlabelled cases that nnU-Net's split put
into the validation fold train instead.

By default the plans' batch is split (half labelled, half unlabelled: the plans' memory, half the
labelled patches). ``nnUNet_weak_unlabelled_on_top=1`` (or ``unlabelled_on_top = True``) keeps
the plans' batch of labelled patches and adds the unlabelled ones on top, as DTML does (2 + 2):
the supervised signal per iteration is then the stock trainer's, at more memory and time.

Supervised losses see the labelled patches only (:meth:`SemiSupervisedMixin.supervised_loss`).
nnU-Net pads patches beyond the image with background, so an unlabelled patch is not all
``ignore``: its padding is annotated background. With nnU-Net's per-sample Dice (``batch_dice``
false, e.g. hippocampus 3d_fullres) such a patch scores a perfect Dice for predicting no
foreground at all; trained on whole batches, DTML at 4 labelled hippocampus cases learned to
predict almost nothing (Dice 0.23, benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os

import numpy as np
import torch
from nnunetv2.training.dataloading.data_loader import nnUNetDataLoader

from nnunet_weak.nnunet_adapter import (
    case_class_locations,
    dataloaders_with_training_loader,
    open_preprocessed,
    preprocessed_cases,
    set_oversampling_rule,
    uniform_random_bbox,
)


def is_labelled(class_locations: dict) -> bool:
    """nnU-Net stores sampling locations per class (and, with an ignore label, for "any annotated
    voxel"); a case without a single location carries no annotation."""
    return any(len(locations) > 0 for locations in class_locations.values())


class LabelledUnlabelledDataLoader(nnUNetDataLoader):
    """nnU-Net's loader with batches of ``round(batch_size * unlabelled_fraction)`` unlabelled cases
    followed by labelled ones. With no unlabelled keys it is nnU-Net's loader."""

    def __init__(self, *args, labelled: set[str], unlabelled_fraction: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.labelled_keys = [k for k in self.indices if k in labelled]
        self.unlabelled_keys = [k for k in self.indices if k not in labelled]
        if not self.labelled_keys:
            raise RuntimeError("no labelled case among the training cases")
        self.n_unlabelled = int(round(self.batch_size * unlabelled_fraction)) if self.unlabelled_keys else 0
        self.n_unlabelled = min(self.n_unlabelled, self.batch_size - 1)
        set_oversampling_rule(self, self._oversample_labelled)

    def get_indices(self):
        unlabelled = np.random.choice(self.unlabelled_keys, self.n_unlabelled) if self.n_unlabelled else []
        labelled = np.random.choice(self.labelled_keys, self.batch_size - self.n_unlabelled)
        return [*unlabelled, *labelled]

    def _oversample_labelled(self, sample_idx: int) -> bool:
        # nnU-Net oversamples the last third of a batch; with a batch split into an unlabelled and
        # a labelled part that rule would hit too many or no labelled patches, so draw per patch.
        if sample_idx < self.n_unlabelled:
            return False
        return np.random.uniform() < self.oversample_foreground_percent

    def get_bbox(self, data_shape, force_fg, class_locations, overwrite_class=None, verbose=False):
        if class_locations is not None and not is_labelled(class_locations):
            # uniform random crop, as nnU-Net crops without an ignore label (and without its warning)
            return uniform_random_bbox(self, data_shape)
        return super().get_bbox(data_shape, force_fg, class_locations, overwrite_class, verbose)


class SemiSupervisedMixin:
    """Mixin placed before ``nnUNetTrainer``: labelled/unlabelled batches and labelled-only validation."""

    unlabelled_fraction = 0.5
    unlabelled_on_top = False

    def supervised_loss(self, output, target, labelled: torch.Tensor) -> torch.Tensor:
        """nnU-Net's loss (``self.loss``) on the labelled patches of the batch only; ``output`` and
        ``target`` are tensors or deep-supervision lists, ``labelled`` is ``(B,)`` bool."""
        def pick(x):
            return [t[labelled] for t in x] if isinstance(x, (list, tuple)) else x[labelled]

        if not labelled.any():
            return sum(o.sum() for o in (output if isinstance(output, (list, tuple)) else [output])) * 0.0
        return self.loss(pick(output), pick(target))

    def _set_batch_size_and_oversample(self):
        if not 0 <= self.unlabelled_fraction < 1:
            raise ValueError(f"{type(self).__name__}.unlabelled_fraction must be in [0, 1) (every batch needs labelled "
                             f"patches), got {self.unlabelled_fraction}")
        super()._set_batch_size_and_oversample()
        on_top = os.environ.get("nnUNet_weak_unlabelled_on_top", str(int(self.unlabelled_on_top))) == "1"
        if on_top and len(self.labelled_cases()) < len(self._all_cases()):
            labelled = self.batch_size
            fraction = self.unlabelled_fraction
            self.batch_size = labelled + int(round(labelled * fraction / (1 - fraction)))
            self.print_to_log_file(f"batch: {labelled} labelled + {self.batch_size - labelled} unlabelled patches")

    def _all_cases(self) -> list[str]:
        return preprocessed_cases(self.preprocessed_dataset_folder)

    def labelled_cases(self) -> set[str]:
        if getattr(self, "_labelled", None) is None:
            keys = self._all_cases()
            dataset = open_preprocessed(self.preprocessed_dataset_folder, keys)
            self._labelled = {k for k in keys if is_labelled(case_class_locations(dataset, k))}
        return self._labelled

    def do_split(self):
        train, val = super().do_split()
        labelled = self.labelled_cases()
        val_labelled = [k for k in val if k in labelled]
        if not val_labelled:
            raise RuntimeError(
                f"fold {self.fold} has no labelled case to validate on. Give nnU-Net a splits_final.json whose "
                "validation cases include labelled ones (unlabelled validation cases are moved to training)."
            )
        return sorted({*train, *(k for k in val if k not in labelled)}), val_labelled

    def get_dataloaders(self):
        """nnU-Net's loaders, the training one a :class:`LabelledUnlabelledDataLoader`; validation stays nnU-Net's."""
        return dataloaders_with_training_loader(self, LabelledUnlabelledDataLoader, labelled=self.labelled_cases(),
                                                unlabelled_fraction=self.unlabelled_fraction)
