"""Every nnU-Net internal that nnunet_weak relies on beyond nnU-Net's documented hooks, in one place.

nnU-Net has no stable API below its trainer hooks; an upgrade can rename a loader attribute, the
tuple ``load_case`` returns or a checkpoint key. Each such reach goes through a function here,
written against nnunetv2 2.8 and tested in ``tests/test_nnunet_adapter.py``, so an upgrade breaks in
this module, loudly (:class:`NnUNetChangedError` names the nnunetv2 version and this module), instead
of silently training differently. Trainers, networks and losses import nnU-Net internals from here only.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path

import torch
from batchgenerators.dataloading.nondet_multi_threaded_augmenter import NonDetMultiThreadedAugmenter
from batchgenerators.dataloading.single_threaded_augmenter import SingleThreadedAugmenter
from nnunetv2.training.dataloading.data_loader import nnUNetDataLoader
from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class
from nnunetv2.utilities.default_n_proc_DA import get_allowed_n_proc_DA
from torch import nn
from torch._dynamo import OptimizedModule
from torch.nn.parallel import DistributedDataParallel

NNUNET_VERSION = importlib.metadata.version("nnunetv2")
WRITTEN_FOR = "2.8"

# keys of the checkpoint dict nnUNetTrainer.save_checkpoint writes
NETWORK_WEIGHTS = "network_weights"
OPTIMIZER_STATE = "optimizer_state"
GRAD_SCALER_STATE = "grad_scaler_state"
TRAINER_NAME = "trainer_name"
# what nnUNetPredictor.initialize_from_trained_model_folder reads from a checkpoint: enough to predict
PREDICTION_KEYS = (NETWORK_WEIGHTS, TRAINER_NAME, "init_args", "inference_allowed_mirroring_axes")


# nnU-Net methods our trainers and loaders override: an override of a hook upstream renamed would
# silently never run, so their presence is checked when a trainer of ours is constructed
TRAINER_HOOKS = ("initialize", "build_network_architecture", "configure_optimizers", "_set_batch_size_and_oversample",
                 "do_split", "get_dataloaders", "train_step", "on_train_epoch_start", "on_train_epoch_end",
                 "save_checkpoint", "load_checkpoint")
LOADER_HOOKS = ("get_indices", "get_bbox", "generate_train_batch")


class NnUNetChangedError(RuntimeError):
    """nnU-Net no longer has the structure nnunet_weak was written for."""


def changed(what: str, error: Exception | None = None) -> NnUNetChangedError:
    detail = f" ({type(error).__name__}: {error})" if error is not None else ""
    return NnUNetChangedError(
        f"nnunetv2 {NNUNET_VERSION}: {what}{detail}. nnunet_weak reaches this nnU-Net internal through "
        f"nnunet_weak/nnunet_adapter.py, written for nnunetv2 {WRITTEN_FOR}: install nnunetv2 {WRITTEN_FOR}.x "
        "or update the adapter (tests/test_nnunet_adapter.py says what it must do).")


def check_hooks() -> None:
    """Raise :class:`NnUNetChangedError` when nnUNetTrainer or nnUNetDataLoader lacks a hook we override."""
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    for owner, hooks in ((nnUNetTrainer, TRAINER_HOOKS), (nnUNetDataLoader, LOADER_HOOKS)):
        missing = [hook for hook in hooks if not callable(getattr(owner, hook, None))]
        if missing:
            raise changed(f"{owner.__name__} has no {', '.join(missing)} for nnunet_weak to override")


def unwrap(network: nn.Module) -> nn.Module:
    """The bare network inside the DDP and ``torch.compile`` wrappers nnU-Net puts around it."""
    module = network.module if isinstance(network, DistributedDataParallel) else network
    return module._orig_mod if isinstance(module, OptimizedModule) else module


def output_layer(unet: nn.Module) -> nn.Module:
    """The final 1x1 convolution of a dynamic-network-architectures U-Net (``decoder.seg_layers[-1]``)."""
    try:
        layer = unet.decoder.seg_layers[-1]
    except (AttributeError, IndexError, TypeError) as error:
        raise changed(f"{type(unet).__name__} has no decoder.seg_layers", error) from None
    if not hasattr(layer, "in_channels"):
        raise changed(f"the last of {type(unet).__name__}'s decoder.seg_layers is not a convolution")
    return layer


# ---- preprocessed datasets -------------------------------------------------------------------------------------

def preprocessed_cases(folder: str | Path) -> list[str]:
    """Case identifiers of a preprocessed dataset folder (``nnUNetPlans_3d_fullres`` and the like)."""
    return list(infer_dataset_class(str(folder)).get_identifiers(str(folder)))


def open_preprocessed(folder: str | Path, cases: list[str] | None = None):
    """nnU-Net's dataset object (blosc2 or numpy, as the folder holds) for ``cases`` (default: all)."""
    return infer_dataset_class(str(folder))(str(folder), cases)


def _load_case(dataset, case: str) -> tuple:
    loaded = dataset.load_case(case)
    if not isinstance(loaded, tuple) or len(loaded) != 4:
        raise changed("load_case no longer returns (data, seg, seg_prev, properties)")
    return loaded


def case_segmentation(dataset, case: str):
    """The preprocessed label map ``(1, *spatial)`` of ``case`` (array-like, maybe memory-mapped)."""
    return _load_case(dataset, case)[1]


def case_class_locations(dataset, case: str) -> dict:
    """nnU-Net's foreground sampling locations of ``case``: {class (or class tuple): (N, 4) voxel indices}."""
    properties = _load_case(dataset, case)[3]
    if "class_locations" not in properties:
        raise changed("a preprocessed case's properties hold no 'class_locations'")
    return properties["class_locations"]


CROSSVAL_FOLDS = 5  # nnU-Net's cross-validation


def crossval_validation_cases(cases: list[str]) -> list[list[str]]:
    """The validation cases of nnU-Net's five folds, as ``nnUNetTrainer.do_split`` makes them when
    no ``splits_final.json`` exists (``generate_crossval_split`` over the sorted identifiers, seed 12345)."""
    try:
        from nnunetv2.utilities.crossval_split import generate_crossval_split
    except ImportError as error:
        raise changed("nnunetv2.utilities.crossval_split.generate_crossval_split is gone", error) from None
    splits = generate_crossval_split(sorted(cases), seed=12345, n_splits=CROSSVAL_FOLDS)
    if len(splits) != CROSSVAL_FOLDS or not all("val" in split for split in splits):
        raise changed("generate_crossval_split no longer returns five {'train', 'val'} folds")
    return [sorted(str(case) for case in split["val"]) for split in splits]


# ---- data loaders ----------------------------------------------------------------------------------------------

def uniform_random_bbox(loader: nnUNetDataLoader, data_shape) -> tuple[list[int], list[int]]:
    """nnU-Net's uniform random crop, as its loader crops a case of a dataset without an ignore label
    (a loader for a dataset with one would look for annotated voxels and warn when none is found)."""
    if not hasattr(loader, "has_ignore"):
        raise changed("nnUNetDataLoader has no has_ignore attribute")
    has_ignore, loader.has_ignore = loader.has_ignore, False
    try:
        return nnUNetDataLoader.get_bbox(loader, data_shape, False, None)
    finally:
        loader.has_ignore = has_ignore


def set_oversampling_rule(loader: nnUNetDataLoader, rule: Callable[[int], bool]) -> None:
    """Replace the loader's "force foreground for the i-th patch of a batch?" rule."""
    if not hasattr(loader, "get_do_oversample"):
        raise changed("nnUNetDataLoader has no get_do_oversample rule")
    loader.get_do_oversample = rule


def dataloaders_with_training_loader(trainer, training_loader: type[nnUNetDataLoader], **loader_kwargs):
    """``nnUNetTrainer.get_dataloaders`` (nnunetv2 2.8) with ``training_loader(..., **loader_kwargs)``
    instead of ``nnUNetDataLoader`` for the training batches; validation keeps nnU-Net's loader.

    nnU-Net builds both loaders inside ``get_dataloaders`` and offers no hook to choose the class, so
    this rebuilds the method from the same trainer hooks (transforms, deep-supervision scales,
    patch sizes, split) it calls. A hook that is gone raises :class:`NnUNetChangedError`.
    """
    try:
        if trainer.dataset_class is None:
            trainer.dataset_class = infer_dataset_class(trainer.preprocessed_dataset_folder)
        patch_size = trainer.configuration_manager.patch_size
        scales = trainer._get_deep_supervision_scales()
        rotation, dummy_2d, initial_patch_size, mirror_axes = \
            trainer.configure_rotation_dummyDA_mirroring_and_inital_patch_size()
        labels = trainer.label_manager
        label_kwargs = {"foreground_labels": labels.foreground_labels,
                        "regions": labels.foreground_regions if labels.has_regions else None,
                        "ignore_label": labels.ignore_label}
        train_transforms = trainer.get_training_transforms(
            patch_size, rotation, scales, mirror_axes, dummy_2d,
            use_mask_for_norm=trainer.configuration_manager.use_mask_for_norm, is_cascaded=trainer.is_cascaded,
            **label_kwargs)
        val_transforms = trainer.get_validation_transforms(scales, is_cascaded=trainer.is_cascaded, **label_kwargs)
        dataset_tr, dataset_val = trainer.get_tr_and_val_datasets()
        common = {"oversample_foreground_percent": trainer.oversample_foreground_percent,
                  "sampling_probabilities": None, "pad_sides": None,
                  "probabilistic_oversampling": trainer.probabilistic_oversampling}
        train = training_loader(dataset_tr, trainer.batch_size, initial_patch_size, patch_size, labels,
                                transforms=train_transforms, **common, **loader_kwargs)
        val = nnUNetDataLoader(dataset_val, trainer.batch_size, patch_size, patch_size, labels,
                               transforms=val_transforms, **common)
    except (AttributeError, TypeError) as error:
        raise changed("nnUNetTrainer.get_dataloaders' building blocks are not what they were", error) from None
    processes = get_allowed_n_proc_DA()
    if processes == 0:
        train, val = SingleThreadedAugmenter(train, None), SingleThreadedAugmenter(val, None)
    else:
        pin = trainer.device.type == "cuda"
        train = NonDetMultiThreadedAugmenter(data_loader=train, transform=None, num_processes=processes,
                                             num_cached=max(6, processes // 2), seeds=None, pin_memory=pin,
                                             wait_time=0.002)
        val = NonDetMultiThreadedAugmenter(data_loader=val, transform=None, num_processes=max(1, processes // 2),
                                           num_cached=max(3, processes // 4), seeds=None, pin_memory=pin,
                                           wait_time=0.002)
    next(train)  # start the workers now, as nnU-Net does
    next(val)
    return train, val


# ---- optimisers and checkpoints --------------------------------------------------------------------------------

def configure_optimizers_for(trainer, network: nn.Module):
    """``trainer.configure_optimizers()`` applied to ``network``: (optimizer, lr_scheduler).

    nnU-Net's hook (and a user's variant of it) optimises ``self.network``; it is pointed at
    ``network`` for the call, so an extra network gets exactly what the trainer's own network gets.
    """
    own = trainer.network
    trainer.network = network
    try:
        optimizer, scheduler = trainer.configure_optimizers()
    finally:
        trainer.network = own
    if not any(p is q for group in optimizer.param_groups for p in group["params"] for q in network.parameters()):
        raise changed(f"{type(trainer).__name__}.configure_optimizers does not optimise self.network")
    return optimizer, scheduler


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """A checkpoint nnUNetTrainer wrote (a pickled dict; nnU-Net itself loads it with weights_only=False)."""
    return torch.load(path, map_location=map_location, weights_only=False)


def prediction_checkpoint(checkpoint: dict) -> dict:
    """The part of a training checkpoint that ``nnUNetv2_predict`` needs (:data:`PREDICTION_KEYS`):
    no optimiser or grad-scaler state, no logs, no extra networks of our trainers."""
    missing = [key for key in PREDICTION_KEYS if key not in checkpoint]
    if missing:
        raise changed(f"a checkpoint of nnUNetTrainer has no {', '.join(missing)}")
    return {key: checkpoint[key] for key in PREDICTION_KEYS}
