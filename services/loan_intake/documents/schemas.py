from shared.contracts.documents import ApplicationDocumentPublic

# What a firm sends with its application; the reviewers ask by these names.
KINDS_ZH = {
    "business_licence": "营业执照",
    "financial_statements": "财务报表",
    "tax_certificate": "纳税证明",
    "qualification_certificate": "资质证书（申请复核）",
    "other": "其他材料",
}
MAX_PER_APPLICATION = 20


# The API's shape is the contract the bank gateway reads too.
DocumentPublic = ApplicationDocumentPublic
