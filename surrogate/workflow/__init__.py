"""Where the engine meets the physics: the pipeline, its reports and the command.

`run` does the whole job on one problem (generate -> split -> fit -> evaluate
-> report); `adapt` chooses where to solve, round by round; `report` writes what a run leaves behind; `cli` is the
`surrogate` command, a thin layer of argument parsing over both. This is the
only package that imports both `problems` and the engine; the engine
(`surrogate` outside this folder) never imports it.
"""
from .adapt import AdaptResult, adapt
from .report import write_report
from .run import QUICK, RUN_DEFAULTS, RunResult, evaluate_dataset, fit_dataset, resolve_problem, run

__all__ = ["run", "RunResult", "adapt", "AdaptResult", "fit_dataset", "evaluate_dataset", "resolve_problem", "write_report",
           "RUN_DEFAULTS", "QUICK"]
