"""Run only by tests/acs/test_parallel_suite.py (its name keeps it out of the suite): two tests
that want Redis, for a run in two xdist workers with a Redis that does not answer."""

import pytest


@pytest.mark.redis
@pytest.mark.parametrize("n", [1, 2])
def test_wants_redis(n):
    pass
