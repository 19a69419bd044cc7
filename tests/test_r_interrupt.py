"""Ctrl-C in an interactive R session that is fitting a model: it arrives as an R interrupt, promptly,
and leaves a usable model whose history says how far it got (the interrupted epoch marked `partial`).

A real R process (`R --interactive`) is sent SIGINT a few seconds into training (after the
progress bar, which interactive R draws on stderr, first shows). Run this file as a
script for more trials and a summary: `python tests/test_r_interrupt.py 12`.
"""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 2      # in `make test`: 5-10 s each on a quiet 2-core machine
DELAY = 1.5     # seconds after the fit's first progress bar appears
PROMPT = 2.0    # an interrupt must arrive within this many seconds

R_CODE = r"""
library(selfsup); invisible(reticulate::import("torch")$set_num_threads(1L))
d <- load_dataset("digits"); m <- build_model(c(8, 8), d$classes, seed = 1)
cat("READY\n")
res <- tryCatch({ fit(m, d$train$x, d$train$y, epochs = 500, batch_size = 4, seed = 1, device = "cpu"); "FINISHED" },
                interrupt = function(e) "INTERRUPT", error = function(e) paste("ERROR", conditionMessage(e)))
cat(sprintf("RESULT %s\nAT %.3f\n", gsub("\n", " ", res), as.numeric(Sys.time())))
h <- m$history
cat(sprintf("ROWS %d PARTIAL %s\n", nrow(h), if ("partial" %in% names(h)) format(h$partial[nrow(h)]) else "none"))
cat(sprintf("USABLE %s\n", length(predict(m, d$test$x, device = "cpu")) == dim(d$test$x)[1]))
q("no")
"""


def one_trial(delay: float = DELAY, timeout: float = 120, command=("R", "--interactive", "--no-save", "--quiet")) -> dict:
    """Start R, fit, press Ctrl-C `delay` seconds after training starts; what R made of it.
    Every wait is bounded: an R that hangs, silent or not, is killed after `timeout` seconds."""
    env = dict(os.environ, R_LIBS=os.environ.get("R_LIBS", ""))
    proc = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, cwd=ROOT, text=True)
    proc.stdin.write(R_CODE)
    proc.stdin.flush()
    lines, sent, timed_out = [], None, False
    deadline = time.monotonic() + timeout
    output = _lines(proc.stdout)
    while True:
        try:
            line = output.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            timed_out = True
            break
        if line is None:                                  # R exited
            break
        lines.append(line)
        if line.startswith("Epoch 1/") and sent is None:  # the bar: training has started
            time.sleep(delay)
            sent = time.time()
            proc.send_signal(signal.SIGINT)
        if line.startswith("USABLE"):
            break
    proc.stdin.close()
    try:
        proc.wait(timeout=0 if timed_out else 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    text = "".join(lines)
    result = re.search(r"^RESULT (.*)$", text, re.M)
    at = re.search(r"^AT ([0-9.]+)$", text, re.M)
    rows = re.search(r"^ROWS (\d+) PARTIAL (\S+)$", text, re.M)
    return {"result": result.group(1) if result else
            f"no result{f' within {timeout:g} s' if timed_out else ''}: {text[-500:]}",
            "seconds": float(at.group(1)) - sent if at and sent else float("nan"),
            "rows": int(rows.group(1)) if rows else -1, "partial": rows.group(2) if rows else "?",
            "usable": "USABLE TRUE" in text}


def _lines(stream) -> queue.Queue:
    """The lines of `stream` as a reader thread delivers them, then None at its end (so the reader
    can wait with a deadline instead of blocking on the pipe)."""
    lines = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_an_r_that_hangs_fails_the_trial_within_its_timeout():
    """A silent, hung R (here: a process that reads nothing and prints nothing) is killed at the deadline."""
    start = time.monotonic()
    t = one_trial(timeout=2, command=(sys.executable, "-c", "import time; time.sleep(60)"))
    assert time.monotonic() - start < 10
    assert t["result"].startswith("no result within 2 s") and not t["usable"], t


def test_ctrl_c_is_an_r_interrupt_promptly_and_the_model_says_how_far_it_got():
    trials = [one_trial() for _ in range(TRIALS)]
    for t in trials:
        assert t["result"] == "INTERRUPT", t
        assert t["seconds"] < PROMPT, t
        # mid-epoch: a last row marked partial; at an epoch's boundary (the interrupt landed in the epoch's
        # summary line or before the next epoch's first batch, seen once in CI) only whole epochs
        assert t["rows"] >= 1 and (t["partial"] == "none" or 0 < float(t["partial"]) <= 1), t
        assert t["usable"], t
    # most interrupts land inside an epoch (12 of 12 in a row on the idle machine): one of the trials must
    # have marked its cut epoch
    assert any(t["partial"] != "none" for t in trials), trials


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    results = []
    for i in range(n):
        t = one_trial(delay=DELAY + (i % 4) * 0.7)   # 1.5, 2.2, 2.9, 3.6 s into training
        results.append(t)
        print(f"trial {i + 1}: {t['result']:<10} after {t['seconds']:.3f} s; {t['rows']} history rows, "
              f"last partial {t['partial']}; usable {t['usable']}", flush=True)
    ok = [t for t in results if t["result"] == "INTERRUPT"]
    secs = sorted(t["seconds"] for t in ok)
    print(f"{len(ok)} of {n} arrived as R interrupts; seconds from SIGINT to R's handler: "
          f"min {secs[0]:.3f}, median {secs[len(secs) // 2]:.3f}, max {secs[-1]:.3f}" if ok else "none arrived")
