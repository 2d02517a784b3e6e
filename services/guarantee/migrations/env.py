from services.guarantee.models import GuaranteeModel
from shared.migrate import run_env

run_env(GuaranteeModel.metadata)
