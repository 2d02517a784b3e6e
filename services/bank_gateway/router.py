from fastapi import APIRouter

from services.bank_gateway import service
from services.bank_gateway.deps import BankReaderDep, SessionDep
from services.bank_gateway.models import PartnerBankPublic
from shared.errors import Forbidden, Unauthenticated, problem_responses

banks = APIRouter(prefix="/v1/banks", tags=["partner banks"])


@banks.get(
    "",
    response_model=list[PartnerBankPublic],
    responses=problem_responses(Unauthenticated, Forbidden),
)
async def list_banks(session: SessionDep, principal: BankReaderDep) -> list[PartnerBankPublic]:
    """Partner banks: bureau staff see all, a bank sees itself."""
    return await service.list_banks(session=session, principal=principal)
