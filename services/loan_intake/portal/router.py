"""The SME portal (企业端): register, sign in, apply, follow the application. Chinese pages.

Thin, like the API router: the same service functions do the work, so the portal enforces
exactly the API's rules; the pages' scripts only check earlier, as the user types.
"""

from fastapi import APIRouter

from services.loan_intake.portal.applications import application_pages
from services.loan_intake.portal.checks import checks
from services.loan_intake.portal.documents import document_pages
from services.loan_intake.portal.fact_reviews import review_pages
from services.loan_intake.portal.letters import letter_pages
from services.loan_intake.portal.messages import message_pages
from services.loan_intake.portal.pages import PREFIX
from services.loan_intake.portal.password_reset import reset_pages
from services.loan_intake.portal.sign_in import sign_in_pages
from services.loan_intake.portal.verify import verify_pages

__all__ = ["PREFIX", "portal"]

portal = APIRouter(include_in_schema=False)
for pages in (
    sign_in_pages,
    reset_pages,
    application_pages,
    letter_pages,
    document_pages,
    review_pages,
    message_pages,
    verify_pages,
    checks,
):
    portal.include_router(pages)
