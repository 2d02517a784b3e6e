"""The shipped policy: "青浦区批次贷", with the numbers of DESIGN.md (defaults the bureau edits)."""

from typing import Any

DEFAULT_POLICY_NAME = "青浦区批次贷"

DEFAULT_POLICY: dict[str, Any] = {
    "name": DEFAULT_POLICY_NAME,
    "description": "青府办发〔2021〕47号 任务17：政府+担保+银行 批次贷默认政策",
    "eligibility": {
        "registered_districts": ["青浦区"],
        "allowed_sizes": ["medium", "small", "micro"],
        "min_years_operating_industrial": 1,
        "min_years_operating_other": 2,
        "excluded_industry_prefixes": {
            "J": "金融业",
            "K701": "房地产开发经营",
            "R90": "娱乐业",
        },
        "excluded_sectors": ["real_estate_development"],
    },
    "limits": {
        "max_amount": "10000000.00",
        "max_amount_specialized": "30000000.00",
        "max_term_months": 36,
    },
    "scoring": {
        "base": 60,
        "flag_points": {
            "little_giant": 15,
            "specialized_new": 10,
            "high_tech": 8,
            "key_industry": 8,
            "tech_sme": 5,
        },
        "mature_after_years": 5,
        "mature_points": 5,
        "leverage_penalties": [
            {"above_ratio": "0.5", "points": -15},
            {"above_ratio": "1.0", "points": -30},
        ],
        "eligible_from": 60,
    },
    "terms": {
        "coverage_ratio": "0.8000",
        "coverage_ratio_specialized": "0.8000",
        "annual_fee_rate": "0.0050",
        "fee_subsidy_share": "0.5000",
        "interest_subsidy_share": "0.0000",
        "interest_subsidy_share_specialized": "0.3000",
    },
    "batch_risk": {
        "warning_loss_rate": "0.0300",
        "suspension_loss_rate": "0.0400",
        "compensation_ceiling": "0.0500",
    },
}
