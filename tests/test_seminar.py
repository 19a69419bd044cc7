"""The seminar script (R) and its Python twin give the same results table for the same seed.

Runs the whole script end to end, on the 8x8 digits with the `tiny` preset (1 epoch per step,
2 replicates), through Rscript as a user would (conftest's seminar_r_tiny), and compares the CSVs
byte for byte.
"""
import numpy as np

from selfsup import seminar


def test_rotate_matches_numpy_and_turns_counter_clockwise():
    x = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    turned = seminar.rotate(x, np.array([1, 0]))
    np.testing.assert_array_equal(turned[0], [[2, 5, 8], [1, 4, 7], [0, 3, 6]])
    np.testing.assert_array_equal(turned[1], x[1])


def test_r_script_and_python_twin_write_the_same_table(seminar_r_tiny, tmp_path):
    rows = seminar.run("digits", preset="tiny", seed=3, device="cpu", verbose=False)
    csv_path, _ = seminar.write_table(rows, tmp_path / "py", "results-python")
    assert (seminar_r_tiny / "results-r.csv").read_text() == csv_path.read_text()
    for png in ["01-images", "02-history", "03-supervised-150", "04-rotations", "04-pretext-history",
                "06-comparison"]:
        assert (seminar_r_tiny / f"{png}.png").stat().st_size > 5000
