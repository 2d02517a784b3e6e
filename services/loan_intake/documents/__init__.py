"""A firm's papers with its application (营业执照, 财务报表, 纳税证明): uploaded by the firm
in the portal or by API, checked by their content, kept in loan_intake's database, read by
the firm, the bureau's reviewers and — through the bank gateway — the batch's bank."""
