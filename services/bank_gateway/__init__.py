"""bank_gateway: partner banks, batches, the loan ledger fed by bank callbacks."""
