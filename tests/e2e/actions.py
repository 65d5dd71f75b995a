"""A local stand-in for a GitHub Actions runner: runs a workflow's own `run:` steps, in order.

It does what the runner does around the steps and nothing more: the checkout is the directory
it runs in, `setup-python` is the interpreter on PATH, uploads stay on disk; each step runs
under GitHub's default shell (`bash --noprofile --norc -eo pipefail`) with the workflow's, the
job's and the step's `env:`, `$GITHUB_OUTPUT` per step, `if:` honoured (a failed step skips
the rest but `always()` steps). Expressions come from a table the caller gives (the event, the
secrets); one it does not know fails the run instead of being guessed. Steps that need a
cluster are skipped by id, and said so.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    job: str
    name: str
    status: str  # ran, failed, skipped, runner (a `uses:` step the runner itself stands for)
    seconds: float = 0.0
    output: str = ""


@dataclass
class JobRun:
    job: str
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> StepRun | None:
        return next((s for s in self.steps if s.status == "failed"), None)


class LocalRunner:
    def __init__(
        self,
        workflow: Path,
        cwd: Path,
        expressions: Mapping[str, str],
        env: Mapping[str, str],
        skip_ids: frozenset[str] = frozenset(),
        timeout: float = 900,
    ) -> None:
        self.workflow: dict[str, Any] = yaml.safe_load(workflow.read_text())
        self.cwd, self.expressions, self.env = cwd, dict(expressions), dict(env)
        self.skip_ids, self.timeout = skip_ids, timeout
        self.jobs: dict[str, JobRun] = {}

    def resolve(self, text: str, step_outputs: Mapping[str, dict[str, str]] | None = None) -> str:
        def one(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr in self.expressions:
                return self.expressions[expr]
            needs = re.fullmatch(r"needs\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if needs and needs.group(1) in self.jobs:
                return self.jobs[needs.group(1)].outputs.get(needs.group(2), "")
            steps = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if steps and step_outputs is not None:
                return step_outputs.get(steps.group(1), {}).get(steps.group(2), "")
            raise AssertionError(f"the workflow uses ${{{{ {expr} }}}}, which this runner was not told")

        return EXPRESSION.sub(one, text)

    def condition(self, step: Mapping[str, Any], failed: bool) -> bool:
        cond = str(step.get("if", "")).strip()
        if cond == "always()":
            return True
        if failed:
            return False
        if not cond:
            return True
        value = self.expressions.get(cond)
        if value is None:
            raise AssertionError(f"the workflow has if: {cond}, which this runner was not told")
        return value == "true"

    def run(self, job_id: str) -> JobRun:
        job = self.workflow["jobs"][job_id]
        for need in job.get("needs", []):
            if need not in self.jobs or self.jobs[need].failed:
                raise AssertionError(f"{job_id} needs {need}, which has not run or failed")
        result = JobRun(job_id)
        step_outputs: dict[str, dict[str, str]] = {}
        base = {**self.env, **self.workflow.get("env", {}), **job.get("env", {})}
        failed = False
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            if "uses" in step:
                result.steps.append(StepRun(job_id, name, "runner", output=step["uses"]))
                continue
            if step.get("id") in self.skip_ids:
                result.steps.append(StepRun(job_id, name, "skipped", output="needs a cluster"))
                continue
            if not self.condition(step, failed):
                result.steps.append(StepRun(job_id, name, "skipped"))
                continue
            output_file = self.cwd / "build" / f".github_output_{job_id}_{number}"
            output_file.parent.mkdir(parents=True, exist_ok=True)
            output_file.write_text("")
            env = {k: self.resolve(str(v), step_outputs) for k, v in {**base, **step.get("env", {})}.items()}
            env["GITHUB_OUTPUT"] = str(output_file)
            started = time.monotonic()
            proc = subprocess.run(
                [
                    "bash",
                    "--noprofile",
                    "--norc",
                    "-eo",
                    "pipefail",
                    "-c",
                    self.resolve(step["run"], step_outputs),
                ],
                cwd=self.cwd,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
            status = "ran" if proc.returncode == 0 else "failed"
            failed = failed or proc.returncode != 0
            result.steps.append(
                StepRun(job_id, name, status, time.monotonic() - started, proc.stdout + proc.stderr)
            )
            if step.get("id"):
                pairs = (ln.partition("=") for ln in output_file.read_text().splitlines() if "=" in ln)
                step_outputs[step["id"]] = {k: v for k, _, v in pairs}
            output_file.unlink()
        result.outputs = {k: self.resolve(str(v), step_outputs) for k, v in job.get("outputs", {}).items()}
        self.jobs[job_id] = result
        return result
