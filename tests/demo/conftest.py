import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(fast_password_hashing) -> None:
    """The demo creates eight accounts per run: hash their passwords cheaply in tests."""
