"""`surrogate run PROBLEM --quick` on every costly problem: it runs end to end
on the coarse solver and gives finite results (not accuracy: quick mode
coarsens the solver and says so in the report)."""
import json
import math

import pytest

from surrogate.workflow.cli import main

COSTLY = ["vlasov", "euler", "transport", "equilibrium"]


@pytest.mark.slow
@pytest.mark.parametrize("name", COSTLY)
def test_quick_run_of_a_costly_problem_finishes_with_finite_results(name, tmp_path):
    assert main(["run", name, "--quick", "--out", str(tmp_path), "--workers", "2"]) == 0
    doc = json.loads((tmp_path / name / "metrics.json").read_text())
    assert doc["problem"] == name and doc["quick"] is True
    for part in ("interpolation", "extrapolation"):
        assert math.isfinite(doc[part]["rel_l2_mean"]) and doc[part]["rel_l2_mean"] > 0
    assert math.isfinite(doc["speedup_per_profile"]) and doc["speedup_per_profile"] > 0
    assert "quick" in (tmp_path / name / "report.md").read_text().lower()
