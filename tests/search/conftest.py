from ..api.conftest import api, token_of  # noqa: F401 - the API tests' JSON client and tokens
