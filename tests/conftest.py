"""Fixtures shared by the Python tests and the rpy2 agreement tests."""
import json
import os
import subprocess
import warnings
from pathlib import Path

import pytest
import torch

import selfsup as ss

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "shared-data"

# Tests compare exact numbers: keep them on the CPU even where a GPU exists.
DEVICE = "cpu"
# One thread, as shared-data/make_golden.py uses: the golden numbers then hold on any core count,
# and tiny batches don't pay for waking a thread pool (10-30x slower on a busy 2-core machine).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits through load_dataset (uint8, keras-style splits)."""
    return ss.load_dataset("digits")


@pytest.fixture(scope="session")
def small(digits):
    """200 training and 60 test digits: enough to learn something in seconds."""
    tr, te = digits["train"], digits["test"]
    return tr["x"][:200], tr["y"][:200], te["x"][:60], te["y"][:60]


# The seminar script's tiny preset on the 8x8 digits (1 epoch per step, 2 replicates), seed 3:
# what test_seminar.py compares with the Python twin and test_report.py renders.
SEMINAR_TINY = dict(SEMINAR_PRESET="tiny", SEMINAR_DATASET="digits", SEMINAR_DEVICE="cpu", SEMINAR_SEED="3",
                    OMP_NUM_THREADS="1")


@pytest.fixture(scope="session")
def seminar_r_tiny(tmp_path_factory):
    """seminar.R run once through Rscript, as a user would; returns its output folder."""
    out = tmp_path_factory.mktemp("seminar") / "r"
    env = dict(os.environ, SEMINAR_OUT=str(out), **SEMINAR_TINY)
    subprocess.run(["Rscript", str(ROOT / "r-package" / "inst" / "seminar" / "seminar.R")], env=env,
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def golden():
    return json.loads((SHARED / "golden" / "supervised_digits.json").read_text())


@pytest.fixture(scope="session")
def r():
    """R embedded in this process (rpy2) with the selfsup R package loaded; returns an evaluator.

    Not skipped when R is missing: the agreement tests are part of the suite, and `make install`
    installs R, rpy2 and the R package.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rpy2's generic note about old reticulate versions
        import rpy2.robjects as ro
    ro.r("suppressPackageStartupMessages(library(selfsup))")
    return R(ro)


class R:
    """Small bridge: run R code, move numpy arrays in and R values out."""

    def __init__(self, ro):
        from rpy2.robjects import numpy2ri
        from rpy2.robjects.conversion import localconverter
        self.ro = ro
        self._conv = lambda: localconverter(ro.default_converter + numpy2ri.converter)

    def __call__(self, code: str):
        return self.ro.r(code)

    def assign(self, name: str, value) -> None:
        with self._conv():
            self.ro.globalenv[name] = value

    def get(self, code: str):
        """Evaluate `code` and convert the result to numpy (numbers) or Python (strings)."""
        with self._conv():
            return self.ro.conversion.get_conversion().rpy2py(self.ro.r(code))

    def error(self, code: str) -> str:
        """The R error message `code` raises ("" if it raises none)."""
        msg = self.ro.r(f"tryCatch({{ {code}; '' }}, error = function(e) conditionMessage(e))")
        return str(msg[0])
