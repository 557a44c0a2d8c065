"""Which trainers nnU-Net finds, which it refuses to train, and which configurations they refuse."""

import pytest
import torch
from tiny_preprocessed import make_trainer

import nnunet_weak.trainers as recommended
from nnunet_weak.ext_trainer import EXPERIMENTAL_FOLDER, SHIM_FOLDER, with_experimental

EXPERIMENTS = ["nnUNetTrainerBenchmarkCELoss", "nnUNetTrainerCrossTeach_AllSlices", "nnUNetTrainerFixMatch",
               "nnUNetTrainerFixMatchEMATeacher", "nnUNetTrainerPointSegMergedCRF", "nnUNetTrainerPointSegSelfCorrect"]
DEFAULT = ["nnUNetTrainerBenchmark", "nnUNetTrainerCrossTeach", "nnUNetTrainerDTML", "nnUNetTrainerGatedCRF",
           "nnUNetTrainerPointSeg",
           "nnUNetTrainerPointSegResEnc", "nnUNetTrainerPointSegSCM", "nnUNetTrainerSDFDualHead",
           "nnUNetTrainerDTMLEnsemble", "nnUNetTrainerSDFDualHeadEnsemble"]


def find(folder, name):
    """nnU-Net's lookup in one nnUNet_extTrainer folder (what recursive_find_trainer_class_by_name does)."""
    from nnunetv2.utilities.find_class_by_name import recursive_find_python_class

    return recursive_find_python_class(str(folder), name, None, base_folder=str(folder),
                                       cleanup_imports_from_base_folder=True)


def exported_trainers(folder) -> set[str]:
    import importlib.util

    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    names = set()
    for path in folder.glob("*.py"):
        spec = importlib.util.spec_from_file_location(f"_catalogue_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names |= {n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, nnUNetTrainer)}
    return names


def test_default_discovery_finds_the_recommended_and_predict_only_trainers_only():
    assert exported_trainers(SHIM_FOLDER) == set(DEFAULT)
    for name in DEFAULT:
        assert find(SHIM_FOLDER, name) is getattr(recommended, name)
    for name in EXPERIMENTS:
        assert find(SHIM_FOLDER, name) is None
    assert set(recommended.RECOMMENDED_TRAINERS) | set(recommended.PREDICT_ONLY_TRAINERS) == set(DEFAULT)


def test_experiments_are_found_through_the_opt_in_folder():
    import nnunet_weak.trainers.experimental as experimental

    assert exported_trainers(EXPERIMENTAL_FOLDER) == set(EXPERIMENTS)
    for name in EXPERIMENTS:
        assert find(EXPERIMENTAL_FOLDER, name) is getattr(experimental, name)
    assert with_experimental(str(SHIM_FOLDER)).endswith(str(EXPERIMENTAL_FOLDER))
    assert with_experimental(with_experimental("")) == str(EXPERIMENTAL_FOLDER)


@pytest.mark.parametrize("name", ["nnUNetTrainerDTMLEnsemble", "nnUNetTrainerSDFDualHeadEnsemble"])
def test_predict_only_trainers_refuse_training_but_build_their_network(name, tmp_path, monkeypatch):
    trainer_class = getattr(recommended, name)
    with pytest.raises(RuntimeError, match=f"{name} is predict-only .* train with -tr {trainer_class.trained_by}"):
        make_trainer(trainer_class, tmp_path, monkeypatch)
    stock = make_trainer(recommended.nnUNetTrainerBenchmark, tmp_path, monkeypatch)
    network = trainer_class.build_network_architecture(stock.plans_manager, stock.configuration_manager, 1, 2, False)
    out = network.eval()(torch.zeros(1, 1, 16, 16, 16))
    assert tuple(out.shape) == (1, 2, 16, 16, 16)  # log-probabilities, nnU-Net's predictor takes them as logits
    assert torch.allclose(out.exp().sum(1), torch.ones(1, 16, 16, 16), atol=1e-5)


@pytest.mark.parametrize("name", ["nnUNetTrainerCrossTeach", "nnUNetTrainerGatedCRF", "nnUNetTrainerPointSeg",
                                  "nnUNetTrainerPointSegResEnc", "nnUNetTrainerPointSegSCM"])
def test_trainers_that_need_3d_patches_refuse_a_2d_configuration_at_start_up(name, tmp_path, monkeypatch):
    trainer = make_trainer(getattr(recommended, name), tmp_path, monkeypatch, configuration="2d")
    with pytest.raises(RuntimeError, match=f"{name} needs a 3D configuration .* for 2d use nnUNetTrainerBenchmark"):
        trainer.initialize()
    assert trainer.network is None  # refused before building anything
