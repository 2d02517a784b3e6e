from services.loan_intake.models import IntakeModel
from shared.migrate import run_env

run_env(IntakeModel.metadata)
