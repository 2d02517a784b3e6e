"""What the firm reads about its application: the number it quotes on the phone, the colour
of its status, and what happens next in each state. Pages and the API say the same."""

from datetime import datetime

from services.loan_intake.models import ApplicationStatus as S
from shared.clock import SHANGHAI

# Colour by meaning: ok (going well or done), info (in someone's hands), warn (needs the
# firm's attention), bad (refused or in trouble), muted (ended by the firm).
STATUS_TONES: dict[S, str] = {
    S.SUBMITTED: "info",
    S.ASSESSING: "info",
    S.ELIGIBLE: "ok",
    S.INELIGIBLE: "bad",
    S.REFERRED: "info",
    S.RETURNED: "warn",
    S.ALLOCATED: "info",
    S.BANK_REVIEWING: "info",
    S.APPROVED: "ok",
    S.DECLINED: "bad",
    S.DISBURSED: "ok",
    S.REPAYING: "ok",
    S.SETTLED: "ok",
    S.OVERDUE: "warn",
    S.DEFAULTED: "bad",
    S.CLAIMED: "bad",
    S.COMPENSATED: "bad",
    S.RECOVERING: "bad",
    S.CLOSED: "muted",
    S.WRITTEN_OFF: "muted",
    S.WITHDRAWN: "muted",
    S.UNGUARANTEED: "bad",
}

_PAPERS = "营业执照、近两年财务报表和近一年纳税证明"

NEXT_STEPS_ZH: dict[S, str] = {
    S.SUBMITTED: "担保中心正在评估您的申请，通常几秒内给出结果，刷新本页即可看到。",
    S.ASSESSING: "担保中心正在评估您的申请，通常几秒内给出结果，刷新本页即可看到。",
    S.ELIGIBLE: (
        "区财政局将把申请分配到合作银行的批次。分配后，银行客户经理会与您联系办理贷款审批，"
        f"请提前准备{_PAPERS}。"
    ),
    S.INELIGIBLE: (
        "本次申请未通过。请对照上面的评估发现；情况变化后（例如诉讼了结、经营年限已满）"
        "可以重新申请。如有异议，可携相关材料到区财政局咨询。"
    ),
    S.REFERRED: "申请已转区财政局人工复核，通常 3 个工作日内完成，结果会显示在本页。",
    S.RETURNED: (
        "区财政局请您补充材料（见下方复核意见）。请在本页“补充材料”处说明并提交，"
        "提交后回到人工复核；30 天内未补充的，可能按现有材料作出决定。"
    ),
    S.ALLOCATED: (f"申请已分配给合作银行，银行客户经理会与您联系办理贷款审批，请准备{_PAPERS}。"),
    S.BANK_REVIEWING: "银行正在审批您的贷款，结果会显示在本页。",
    S.APPROVED: "银行已批准。请按银行通知签订借款合同；放款后担保自动生效。",
    S.DECLINED: "银行未批准本次贷款。可对照银行给出的原因，改选其他合作银行重新申请。",
    S.DISBURSED: (
        "贷款已发放，担保已生效。请按合同按时还本付息；担保费按下方计划缴纳，"
        "财政补贴部分由区财政局按结算期直接拨付到企业账户。"
    ),
    S.REPAYING: ("请按合同按时还本付息。担保费按下方计划缴纳，财政补贴由区财政局按结算期拨付。"),
    S.SETTLED: "贷款已结清，担保已解除，不再计收担保费。欢迎再次申请。",
    S.OVERDUE: (
        "贷款已逾期，请尽快联系贷款银行还款。逾期期间不享受贴息和担保费补贴；"
        "逾期不还，银行将向担保基金申请代偿，担保基金代偿后将向企业追偿。"
    ),
    S.DEFAULTED: (
        "贷款已违约，银行将向担保基金申请代偿，代偿后担保基金将依法向企业追偿。"
        "请尽快联系贷款银行协商还款。"
    ),
    S.CLAIMED: "银行已向担保基金申请代偿，担保基金正在审核。请尽快联系贷款银行协商还款。",
    S.COMPENSATED: "担保基金已代偿，将依法向企业追偿。请联系担保基金协商还款安排。",
    S.RECOVERING: "担保基金正在追偿。请联系担保基金协商还款安排。",
    S.CLOSED: "本笔业务已办结。",
    S.WRITTEN_OFF: "本笔业务已核销。",
    S.WITHDRAWN: "申请已撤回，您可以随时重新申请。",
    S.UNGUARANTEED: "该笔贷款未纳入批次贷担保（担保基金未予备案），请联系贷款银行了解详情。",
}


def application_number(number: int | None, created_at: datetime) -> str | None:
    """QP-2026-000123: the year it was filed (Shanghai time) and its place in the register."""
    if number is None:
        return None
    return f"QP-{created_at.astimezone(SHANGHAI).year}-{number:06d}"
