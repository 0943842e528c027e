"""docs/maths.md: every equation the code cites exists there, every function it names exists,
and nothing user-facing points outside the repository."""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MATHS = ROOT / "docs" / "maths.md"
#: where the code, the docs and the notebooks live (model.py included: its citations must resolve too)
SOURCES = [p for d in ("surrogate", "problems", "tests", "benchmarks", "notebooks") for p in (ROOT / d).rglob("*")
           if p.suffix in (".py", ".md", ".ipynb") and "__pycache__" not in p.parts] + [ROOT / "README.md"]


def numbered_equations():
    """The numbers that end an equation line of docs/maths.md, e.g. '(18)'."""
    text = MATHS.read_text()
    blocks = [line for line in text.splitlines() if line.startswith("    ")]
    return [int(n) for line in blocks for n in re.findall(r"\((\d+)\)\s*$", line)]


def cited_equations(text):
    """Equation numbers cited as 'Eq. (8)', 'Eqs. (12)-(13)', 'Eqs. 1-24', 'Eqs. 18 and 24', 'Eq. 5'."""
    numbers = set()
    for match in re.finditer(r"\bEqs?\.\s*((?:\(?\d+\)?(?:\s*(?:-|,|and)\s*)?)+)", text):
        spans = re.findall(r"\(?(\d+)\)?\s*(?:-\s*\(?(\d+)\)?)?", match.group(1))
        for lo, hi in spans:
            numbers.update(range(int(lo), int(hi or lo) + 1))
    return numbers


def test_equations_are_numbered_once_in_order():
    numbers = numbered_equations()
    assert numbers == list(range(1, len(numbers) + 1)), numbers


def test_every_equation_the_code_cites_is_in_docs_maths():
    defined = set(numbered_equations())
    for path in SOURCES:
        cited = cited_equations(path.read_text(errors="replace"))
        if path.parent.name == "problems" or path.name.startswith("test_problem"):
            continue  # the physics modules number their own equations in their docstrings
        assert cited <= defined, (path.relative_to(ROOT), sorted(cited - defined))


def test_the_citation_parser_reads_every_form():
    assert cited_equations("Eq. (8) and its gradient, Eqs. (14)-(24)") == {8, *range(14, 25)}
    assert cited_equations("back-propagation (Eqs. 18 and 24)") == {18, 24}
    assert cited_equations("Eqs. (18), (24), (15)-(16): add") == {15, 16, 18, 24}
    assert cited_equations("forward (Eqs. 1-7)") == set(range(1, 8))


def _defined_names(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names.update(f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef))
    return names


def test_every_function_docs_maths_names_is_defined_where_it_says():
    rows = [line for line in MATHS.read_text().splitlines() if line.startswith("| (") or line.startswith("| members")
            or line.startswith("| epochs") or line.startswith("| initial")]
    checked = 0
    for row in rows:
        where = row.split("|")[2]
        current = None
        for token in re.findall(r"`([^`]+)`", where):
            if token.endswith(".py"):
                current = ROOT / token
                assert current.is_file(), token
            elif current is not None and re.fullmatch(r"[A-Za-z_][\w.]*", token):
                assert token in _defined_names(current), (row, token)
                checked += 1
    assert checked >= 40  # the tables name that many functions


@pytest.mark.parametrize("pattern", [r"the notes\b", r"notes'", r"machine-learning-notes", r"\.\./shared",
                                     r"\.\./\.\./", r"~/", r"/home/"])
def test_nothing_points_outside_the_repository(pattern):
    offenders = [str(p.relative_to(ROOT)) for p in SOURCES
                 if p.name != "model.py" and p.name != "test_docs.py"
                 and re.search(pattern, p.read_text(errors="replace"))]
    assert offenders == []


def test_readme_links_the_maths():
    assert "docs/maths.md" in (ROOT / "README.md").read_text()
