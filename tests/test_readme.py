"""Every usage example of README.md runs as written.

Which blocks run is decided by the section headings, so an example added
later is picked up without touching this file:

* Fenced blocks tagged ``python`` run in one shared namespace, in the order
  they appear, so a later block may use what an earlier one defined (the
  README's examples build on each other: ``model``, ``test``, ...). The
  namespace is a module registered in ``sys.modules``, so a function defined
  at the top level of a block can be found by module and name, as
  ``problems.wrap`` requires.
* Fenced blocks tagged ``bash``, ``sh``, ``shell`` or ``console`` run their
  ``surrogate ...`` lines through the command line (``python -m
  surrogate.workflow.cli``), in the same order among the python blocks and in
  the same working directory. Comments after ``#`` are dropped. A command
  that names a problem outside CHEAP_PROBLEMS gets ``--quick`` appended when
  it does not say so already (better: keep the README's examples cheap).
  ``pip install`` lines are installation, not usage, and are skipped; any
  other shell line fails the test, so that a new kind of example is a
  decision, not silently ignored.
* Blocks without a language tag (layouts, tables) do not run.
* Sections whose heading (at any level, with all the headings above it)
  says install, test or benchmark are not usage: their blocks are skipped.

Everything runs in a fresh temporary directory, so files the examples write
(``heat.npz``, ``heat-run/``, ...) are the examples' own, and on one Numba
thread, as the README advises for a shared machine: there a parallel region
can wait a scheduler time slice for a descheduled thread (the engine
example's L-BFGS polish was measured 6x slower on two threads of a loaded
2-core machine).
"""
import os
import pathlib
import re
import shlex
import subprocess
import sys
import time
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SKIPPED_SECTIONS = re.compile(r"install|\btests?\b|benchmark", re.IGNORECASE)
SHELL = {"bash", "sh", "shell", "console"}
#: problems whose full-size `surrogate` commands take seconds; others get --quick
CHEAP_PROBLEMS = {"heat", "pinch", "schrodinger"}
SOLVING_COMMANDS = {"generate", "run", "adapt"}


def usage_blocks(text):
    """[(heading path, language, code)] of the README's runnable blocks, in order."""
    blocks, headings, fence, lang, lines = [], [], None, None, []
    for line in text.splitlines():
        if fence is None:
            heading = re.match(r"^(#{1,6})\s+(.*)", line)
            if heading:
                level = len(heading.group(1))
                headings = headings[:level - 1] + [heading.group(2).strip()]
                continue
            opening = re.match(r"^(```+|~~~+)\s*([\w-]*)", line)
            if opening:
                fence, lang, lines = opening.group(1), opening.group(2).lower(), []
        elif line.startswith(fence):
            path = " > ".join(headings)
            if lang in ("python", *SHELL) and not SKIPPED_SECTIONS.search(path):
                blocks.append((path, lang, "\n".join(lines) + "\n"))
            fence = None
        else:
            lines.append(line)
    return blocks


def shell_commands(code):
    """The argument lists of a shell block's `surrogate` lines (pip installs skipped)."""
    commands = []
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[:2] == ["pip", "install"]:
            continue
        if words[0] != "surrogate":
            raise AssertionError(f"README shell line is neither `surrogate ...` nor an install: {line!r}")
        args = words[1:]
        if (len(args) >= 2 and args[0] in SOLVING_COMMANDS and args[1] not in CHEAP_PROBLEMS
                and not args[1].startswith("-") and "--quick" not in args):
            args.append("--quick")
        commands.append(args)
    return commands


def test_the_extractor_follows_the_headings():
    text = """# Title
## Install
```bash
pip install .
```
## Use
```bash
surrogate generate heat -n 5 --out a.npz   # a comment
    # a comment alone
surrogate run vlasov
surrogate run euler --quick
```
```python
x = 1
```
```
a layout, not code
```
### Benchmarks
```python
raise SystemExit
```
## More use
```python
y = x + 1
```
"""
    blocks = usage_blocks(text)
    assert [(path, lang) for path, lang, _ in blocks] == [
        ("Title > Use", "bash"), ("Title > Use", "python"), ("Title > More use", "python")]
    assert shell_commands(blocks[0][2]) == [["generate", "heat", "-n", "5", "--out", "a.npz"],
                                            ["run", "vlasov", "--quick"], ["run", "euler", "--quick"]]
    with pytest.raises(AssertionError, match="neither"):
        shell_commands("rm -rf /tmp/x\n")


@pytest.mark.slow
def test_every_readme_usage_example_runs(tmp_path, monkeypatch):
    blocks = usage_blocks(README.read_text())
    assert sum(lang == "python" for _, lang, _ in blocks) >= 5 and any(lang in SHELL for _, lang, _ in blocks)
    monkeypatch.chdir(tmp_path)
    import numba
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "NUMBA_NUM_THREADS": "1"}
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        _run_blocks(blocks, env, monkeypatch)
    finally:
        numba.set_num_threads(threads)


def _run_blocks(blocks, env, monkeypatch):
    module = types.ModuleType("readme_examples")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    timings = []
    for number, (section, lang, code) in enumerate(blocks, 1):
        t0 = time.perf_counter()
        where = f"README block {number} ({lang}, section {section!r})"
        if lang == "python":
            try:
                exec(compile(code, f"<{where}>", "exec"), module.__dict__)
            except Exception as exc:
                raise AssertionError(f"{where} failed: {type(exc).__name__}: {exc}\n{code}") from exc
        else:
            for args in shell_commands(code):
                proc = subprocess.run([sys.executable, "-m", "surrogate.workflow.cli", *args], env=env,
                                      capture_output=True, text=True, timeout=600)
                assert proc.returncode == 0, f"{where}: `surrogate {shlex.join(args)}` failed:\n{proc.stderr}"
        timings.append((time.perf_counter() - t0, where))
        print(f"{timings[-1][0]:6.1f} s  {where}", file=sys.__stderr__, flush=True)  # seen even under capture


def test_a_broken_example_fails_the_runner(tmp_path, monkeypatch):
    """The runner is not a test that cannot fail: a python block that raises, or a `surrogate`
    command that exits non-zero, is reported with its block; names flow from block to block."""
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    _run_blocks([("Use", "python", "x = 41\n"), ("Use", "python", "assert x + 1 == 42\n")], env, monkeypatch)
    with pytest.raises(AssertionError, match=r"README block 2 \(python, section 'Use'\) failed: NameError"):
        _run_blocks([("Use", "python", "y = 1\n"), ("Use", "python", "print(X_never_defined)\n")], env, monkeypatch)
    with pytest.raises(AssertionError, match=r"`surrogate generate nosuch -n 5 --out x.npz --quick` failed"):
        _run_blocks([("Use", "bash", "surrogate generate nosuch -n 5 --out x.npz\n")], env, monkeypatch)
