"""The test suite: test modules and conftest files share code through tests.helpers only."""

import pytest

# Here, before anything can import them: the helpers' asserts explain failures as a test's do.
pytest.register_assert_rewrite("tests.helpers")
