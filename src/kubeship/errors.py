"""The errors a user can cause, and the exit code the CLI gives each.

    KubeshipError                 1   base: message says what, where, how to fix
    ├── UsageError                2   a wrong command line or argument
    ├── ConfigError               3   a config or secret file that can't be read or parsed
    ├── AppLoadError              4   `module:app` that can't be imported or isn't an ASGI app
    ├── ServeError                5   the server can't start (port in use, bad TLS files)
    ├── SpecError                 6   kubeship.yaml invalid: every problem, each at file:line:col
    ├── BuildError                7   no image builder, daemon down, the build failed
    ├── RegistryError             8   push/login: auth refused, registry unreachable, TLS untrusted
    ├── AnalysisError             9   an AnalysisTemplate Argo would reject, or a provider kubeship can't run
    ├── ReleaseError             14   the GitOps hand-off refused, or the rollout aborted or timed out
    └── DastError                15   the DAST scan found what the pipeline's rules fail on

The CLI prints `str(error)` on one line, without a traceback, and exits with
`error.exit_code`. Messages never contain a secret value.
"""

from __future__ import annotations

from typing import ClassVar


class KubeshipError(Exception):
    """A problem the user can fix; its message says what, where and how."""

    exit_code: ClassVar[int] = 1


class UsageError(KubeshipError):
    exit_code = 2


class ConfigError(KubeshipError):
    exit_code = 3


class AppLoadError(KubeshipError):
    exit_code = 4


class ServeError(KubeshipError):
    exit_code = 5


class SpecError(KubeshipError):
    """kubeship.yaml is unreadable or invalid; the message lists every problem as file:line:col."""

    exit_code = 6


class BuildError(KubeshipError):
    exit_code = 7


class RegistryError(KubeshipError):
    exit_code = 8


class AnalysisError(KubeshipError):
    """`kubeship analyze`: the template is invalid as Argo validates it, or names a provider we can't run.
    (The run's own outcome has exit codes of its own: see `kubeship.cli.deliver_cmd`.)"""

    exit_code = 9


class ReleaseError(KubeshipError):
    """`kubeship pipeline publish|wait`: git refused the hand-off, or the rollout aborted or timed out.
    (10-13 are `kubeship analyze`'s run phases.)"""

    exit_code = 14


class DastError(KubeshipError):
    """`kubeship pipeline dast-gate`: findings at or above the failing level, each named."""

    exit_code = 15
