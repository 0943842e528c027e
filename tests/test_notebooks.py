"""Every notebook (one per problem, and the inverse problem) runs top to bottom in quick mode
(SURROGATE_QUICK=1, tiny sizes)."""
import os
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_problem_notebook_is_there():
    names = {nb.stem for nb in NOTEBOOKS}
    assert {"heat", "burgers", "pinch", "inverse"} <= names


def test_committed_notebooks_carry_their_outputs():
    """A reader on GitHub sees the plots without running anything."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert len(images) >= 4, f"{path.name}: {len(images)} plots stored"
        assert not any(o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code"
                       for o in c.get("outputs", [])), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, monkeypatch):
    monkeypatch.setenv("SURROGATE_QUICK", "1")
    # the kernel must import this checkout's packages, whatever its working directory
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - t0
    texts = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "quick mode" in texts
    if path.stem == "inverse":  # the inverse problem: both fits ran to the comparison
        assert "surrogate fit:" in texts and "solver fit:" in texts
    else:
        assert "identical predictions after load: True" in texts
    assert seconds < 60, f"{path.name} took {seconds:.0f} s in quick mode"
