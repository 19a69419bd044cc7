"""The R package's structure stays as DESIGN.md describes it: `R/convert.R` is the only place that
converts between R and Python (reticulate's converters, 0-based <-> 1-based numbers). Static checks
of the R source, no R run."""
import re
from pathlib import Path

R_DIR = Path(__file__).resolve().parents[1] / "r-package" / "R"

# reticulate's converters, and a number moved by one (0-based Python <-> 1-based R).
CONVERTERS = re.compile(r"\b(py_to_r|r_to_py|np_array|py_dict|tuple|array_reshape)\s*\(")
SHIFT = re.compile(r"[+-]\s*1L\b")
# progress.R draws the bar (a console width minus 1 is not a conversion)
SHIFT_ALLOWED = {"convert.R", "progress.R"}


def code_lines(path: Path):
    """(number, line) of the R code, roxygen and comments left out."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
        if code.strip():
            yield number, code


def test_conversions_between_r_and_python_are_in_convert_r():
    offenders = []
    for path in sorted(R_DIR.glob("*.R")):
        for number, code in code_lines(path):
            if path.name != "convert.R" and CONVERTERS.search(code):
                offenders.append(f"{path.name}:{number}: {code.strip()}")
            if path.name not in SHIFT_ALLOWED and SHIFT.search(code):
                offenders.append(f"{path.name}:{number}: {code.strip()}")
    assert offenders == [], "convert into R/convert.R (an as_r_*() or as_py_*() function):\n" + "\n".join(offenders)
