from __future__ import annotations

from medadapt.train.plots import moving_average, plot_loss_curves


def test_moving_average_is_trailing_and_keeps_length():
    assert moving_average([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert moving_average([2.0], 5) == [2.0]


def test_a_log_without_training_loss_draws_nothing(tmp_path):
    assert plot_loss_curves([{"step": 0, "eval_loss": 3.0}], tmp_path / "loss.png", "t", "loss") is None
    assert not (tmp_path / "loss.png").exists()


def test_train_and_dev_losses_are_drawn(tmp_path):
    rows = [{"step": s, "loss": 3.0 - s / 10} for s in range(1, 21)] + [{"step": 20, "eval_loss": 2.5}]
    path = plot_loss_curves(rows, tmp_path / "loss.png", "Stage 2 SFT", "training loss")
    assert path == tmp_path / "loss.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
