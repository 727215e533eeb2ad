"""Hypothesis settings for the hostile-input fuzz tests (issue 8).

Two profiles, chosen by the ``CI`` environment variable:

* ``kiosk-fuzz-ci`` (``CI=true``): 2,000 examples per fuzz test, derandomized. CI runs the same
  examples every time (a fixed seed per test, derived from the test's name), so a red build is
  always reproducible and never flaky; a failure prints the shrunk input to paste into a
  regression test.
* ``kiosk-fuzz-dev`` (everywhere else): 200 random examples per run, so developers keep
  exploring new inputs; failures are remembered in ``.pytest_cache/hypothesis`` (ignored by git)
  and replayed first on the next run.

The profiles are registered, never loaded globally: fuzz tests decorate themselves with
:data:`FUZZ`, so other tests that use Hypothesis keep their own settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
CI_EXAMPLES = 2000
DEV_EXAMPLES = 200
_SLOW_INPUTS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "kiosk-fuzz-ci",
    max_examples=CI_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_INPUTS,
)
settings.register_profile(
    "kiosk-fuzz-dev",
    max_examples=DEV_EXAMPLES,
    database=DirectoryBasedExampleDatabase(
        Path(__file__).resolve().parent.parent / ".pytest_cache" / "hypothesis"
    ),
    deadline=None,
    suppress_health_check=_SLOW_INPUTS,
)

FUZZ = settings.get_profile("kiosk-fuzz-ci" if IN_CI else "kiosk-fuzz-dev")
"""The settings every fuzz test uses: ``@FUZZ`` above ``@given``."""


def fewer(ci_examples: int, dev_examples: int) -> settings:
    """:data:`FUZZ` with other example counts, for a fuzz test whose every example is costly."""
    return settings(FUZZ, max_examples=ci_examples if IN_CI else dev_examples)
