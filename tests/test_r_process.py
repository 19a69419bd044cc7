"""R as users run it (Rscript, R loaded first), not only R embedded in Python through rpy2.

In an Rscript process R's own BLAS is loaded before torch; the package must still give torch
its own matrix-product kernels, or R's numbers (and speed) drift from Python's.
"""
import subprocess

import numpy as np
import torch


def test_rscript_torch_matrix_products_equal_python(tmp_path):
    out = tmp_path / "product.npy"
    code = ("suppressPackageStartupMessages(library(selfsup)); invisible(load_dataset('digits')); "
            "torch <- reticulate::import('torch'); invisible(torch$manual_seed(0L)); "
            "a <- torch$randn(512L, 512L); "
            f"reticulate::import('numpy')$save('{out}', torch$mm(a, a)$numpy())")
    subprocess.run(["Rscript", "-e", code], check=True, capture_output=True)
    torch.manual_seed(0)
    a = torch.randn(512, 512)
    np.testing.assert_array_equal(np.load(out), torch.mm(a, a).numpy())
