"""The bundled sample dataset (see ATTRIBUTION.md)."""

from pathlib import Path

SAMPLE_DATASET = Path(__file__).resolve().parent / "Dataset990_HippocampusSample"
