"""loan_intake: enterprises, applications and the SME's view of their status."""
