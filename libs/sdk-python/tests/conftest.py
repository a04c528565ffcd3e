import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
HASHING_FIXTURES = ROOT / "libs" / "hashing" / "fixtures"


@pytest.fixture(scope="session")
def prompt_hash_cases():
    return json.loads((HASHING_FIXTURES / "prompt-hashes.json").read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="session")
def assignment_fixture():
    return json.loads((HASHING_FIXTURES / "assignments.json").read_text(encoding="utf-8"))
