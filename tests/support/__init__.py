"""Test support: where the shared data is (skipping with a reason when it is missing)
and small builders for configs and items. Fixtures over these live in conftest.py."""
