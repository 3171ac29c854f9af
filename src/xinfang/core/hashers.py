"""Password hashers."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with minimal cost, for the test suite only (test_settings): the same algorithm and
    hash format as production, without spending a second per test on key stretching."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
