# The three services in process with a partner bank's receiver: the bank gateway's desk.
from tests.bank_gateway.conftest import desk  # noqa: F401
