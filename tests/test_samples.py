"""The committed sample dataset is valid and is exactly what `make sample-data` writes."""
from __future__ import annotations

from conftest import digest

from workbench.cli import main
from workbench.config import SAMPLE_DATA


def test_the_committed_sample_validates(capsys):
    assert main(["validate", str(SAMPLE_DATA)]) == 0
    assert "valid" in capsys.readouterr().err


def test_the_committed_sample_is_what_the_generator_writes(tmp_path):
    # the same arguments as `make sample-data`: a generator change must come with regenerated samples
    assert main(["sample-data", "--out", str(tmp_path), "--skus", "40", "--years", "2", "--seed", "7",
                 "--no-truth"]) == 0
    assert digest(tmp_path) == digest(SAMPLE_DATA)
