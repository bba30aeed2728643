import os
import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
sys.path.insert(0, str(TRAINING))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROADSCENE = REPO.parent / "shared" / "data" / "roadscene"


@pytest.fixture
def roadscene():
    if not (ROADSCENE / "ir").is_dir():
        pytest.skip(f"RoadScene is not at {ROADSCENE} (../shared/data): skipping the tests on real pairs")
    return ROADSCENE


def thermocolor_binary():
    from thermocolor_training.parity import find_thermocolor
    try:
        return find_thermocolor()
    except FileNotFoundError as error:
        return None


@pytest.fixture
def thermocolor():
    binary = thermocolor_binary()
    if binary is None:
        pytest.skip("no thermocolor binary (.build/release or $THERMOCOLOR): skipping the engine comparisons")
    return binary
