import pytest


@pytest.fixture(autouse=True)
def _service_test_defaults(fast_password_hashing, default_language) -> None:
    """Argon2 at minimal cost (the world fixture creates fourteen accounts) and the default language
    (messages are compared in Chinese), for every test here; see tests/conftest.py."""
