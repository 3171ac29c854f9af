"""Print a fresh set of secrets as environment lines: ``python -m xinfang.core.keygen > var/secrets.env``.

Used by ``make demo`` on first run; production sets the same variables from its secret store.
Losing XINFANG_FIELD_KEYS makes stored ID and phone numbers unreadable, losing XINFANG_AUDIT_KEY
makes the audit chain unverifiable: back them up separately.
"""

import secrets

from cryptography.fernet import Fernet


def main() -> None:
    print(f"SECRET_KEY={secrets.token_urlsafe(50)}")
    print(f"XINFANG_FIELD_KEYS={Fernet.generate_key().decode()}")
    print(f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}")
    print(f"XINFANG_AUDIT_KEY={secrets.token_urlsafe(32)}")


if __name__ == "__main__":
    main()
