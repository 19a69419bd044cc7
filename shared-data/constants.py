"""Constants shared by the golden files, pytest and testthat (testthat reads golden/*.json's "settings")."""
GOLDEN = {
    "n_train": 300,          # first rows of load_dataset("digits")["train"]
    "n_test": 60,            # first rows of its test split
    "epochs": 3,
    "batch_size": 32,
    "validation_split": 0.2,
    "seed": 7,
    "tolerance": 1e-5,       # relative: float32 CPU kernels may differ across machines in the last bits
}
