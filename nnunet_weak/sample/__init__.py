"""The bundled real cases (see ATTRIBUTION.md): the test sample, and the demo's extra cases."""

from pathlib import Path

SAMPLE_DATASET = Path(__file__).resolve().parent / "Dataset990_HippocampusSample"
# imagesTr/labelsTr of more hippocampus cases, used by ``nnunet-weak demo`` only (the tests keep to the sample)
DEMO_CASES = Path(__file__).resolve().parent / "demo_cases"
