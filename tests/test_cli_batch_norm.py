"""`python -m selfsup fit --encoder convnet` saves a model with batch norm that loads again (the
int64 batch count beside the float32 weights)."""
import numpy as np

import selfsup as ss
from selfsup import cli


def test_the_cli_saves_a_convnet_that_loads(small, tmp_path):
    x, y, x_test, _ = small
    np.save(tmp_path / "x.npy", x[:64])
    np.save(tmp_path / "y.npy", y[:64])
    out = tmp_path / "c.safetensors"
    assert cli.main(["fit", "--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"), "--out", str(out),
                     "--encoder", "convnet", "--epochs", "1", "--batch-size", "32", "--seed", "3", "--device", "cpu",
                     "--quiet"]) == 0
    saved = ss.load_model(out)
    want = ss.fit_supervised(x[:64], y[:64], encoder="convnet", epochs=1, batch_size=32, seed=3, device="cpu",
                             verbose=False)
    assert saved.history == want.history
    for name, value in want.net.state_dict().items():
        assert saved.net.state_dict()[name].dtype == value.dtype and saved.net.state_dict()[name].equal(value), name
    np.testing.assert_array_equal(ss.predict(saved, x_test, type="prob", device="cpu"),
                                  ss.predict(want, x_test, type="prob", device="cpu"))
