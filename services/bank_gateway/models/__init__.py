"""The bank gateway's tables, one file per entity (API shapes live in each domain's
schemas.py). Importing this package registers every table in the gateway's metadata."""

from services.bank_gateway.models.audit_entry import AuditEntry
from services.bank_gateway.models.base import GatewayModel
from services.bank_gateway.models.batch import BATCH_STATUS_ZH, Batch, BatchStatus
from services.bank_gateway.models.batch_loan import BatchLoan
from services.bank_gateway.models.delivery import Delivery, DeliveryKind, DeliveryStatus
from services.bank_gateway.models.fiscal_period import (
    FiscalPeriod,
    MoneyEntry,
    StatementLine,
    SubsidyPayout,
)
from services.bank_gateway.models.interest_sums import (
    InterestMark,
    InterestMonth,
    InterestOpenLoan,
    InterestSum,
)
from services.bank_gateway.models.partner_bank import PartnerBank
from services.bank_gateway.models.received_event import ReceivedEvent
from services.bank_gateway.models.revoked_session import RevokedSession
from services.bank_gateway.models.signing_secret import SigningSecret
from services.bank_gateway.models.staff_account import StaffAccount
from services.bank_gateway.models.three_way_run import ThreeWayRun
from services.bank_gateway.models.throttle import ThrottleEntry

__all__ = [
    "BATCH_STATUS_ZH",
    "AuditEntry",
    "Batch",
    "BatchLoan",
    "BatchStatus",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "FiscalPeriod",
    "GatewayModel",
    "InterestMark",
    "InterestMonth",
    "InterestOpenLoan",
    "InterestSum",
    "MoneyEntry",
    "PartnerBank",
    "ReceivedEvent",
    "RevokedSession",
    "SigningSecret",
    "StaffAccount",
    "StatementLine",
    "SubsidyPayout",
    "ThreeWayRun",
    "ThrottleEntry",
]
