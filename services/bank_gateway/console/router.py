"""The finance bureau console (财政局工作台): Chinese pages over the gateway's services and,
with the signed-in person's own token, loan_intake's and the guarantee service's APIs.

One router per part: sign-in, the inbox (with referred applications), batches,
notifications, policies, reference lists (核验名单), fiscal periods and their statements,
the subsidy report and 在保余额; and the guarantee fund's claims desk.
"""

from fastapi import APIRouter

from services.bank_gateway.console.batch_sheet import sheet_pages
from services.bank_gateway.console.batches import batch_pages
from services.bank_gateway.console.claims import claim_pages
from services.bank_gateway.console.deliveries import delivery_pages
from services.bank_gateway.console.exposure import exposure_pages
from services.bank_gateway.console.fact_reviews import review_pages
from services.bank_gateway.console.fees import fee_pages
from services.bank_gateway.console.inbox import inbox_pages
from services.bank_gateway.console.pages import PREFIX
from services.bank_gateway.console.periods import period_pages
from services.bank_gateway.console.policies import policy_pages
from services.bank_gateway.console.reconciliation import reconciliation_pages
from services.bank_gateway.console.reference_lists import list_pages
from services.bank_gateway.console.reports import report_pages
from services.bank_gateway.console.search import search_pages
from services.bank_gateway.console.sign_in import sign_in_pages

__all__ = ["PREFIX", "console"]

console = APIRouter(include_in_schema=False)
for pages in (
    sign_in_pages,
    inbox_pages,
    sheet_pages,
    batch_pages,
    claim_pages,
    fee_pages,
    delivery_pages,
    policy_pages,
    list_pages,
    review_pages,
    period_pages,
    report_pages,
    reconciliation_pages,
    exposure_pages,
    search_pages,
):
    console.include_router(pages)
