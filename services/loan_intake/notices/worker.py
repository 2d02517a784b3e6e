"""The status texter: reads the applications' history after its cursor and texts each
step to the firm's verified phones, then moves the cursor — in one transaction holding the
cursor's lock, so replicas take turns. A text may go twice if a process dies between
sending and committing; a step is never texted to another firm."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.loan_intake.applications.words import application_number
from services.loan_intake.models import STATUS_LABELS_ZH, ApplicationStatus
from services.loan_intake.notices import repository as repo
from shared.jobs import Worker
from shared.outbound import Channel

log = structlog.get_logger("loan_intake.notices")

CURSOR = "status_texts"
BATCH = 100


class StatusTexter(Worker):
    queue = "loan_intake.status_texts"
    interval = 5.0

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], channel: Channel) -> None:
        self._sessionmaker = sessionmaker
        self._channel = channel

    async def step(self) -> int:
        async with self._sessionmaker() as session, session.begin():
            cursor = await repo.cursor(session=session, name=CURSOR)
            news = await repo.news_after(session=session, last_id=cursor.last_event_id, limit=BATCH)
            phones = await repo.verified_phones(
                session=session, usccs={a.enterprise_uscc for _, a in news}
            )
            for event, application in news:
                number = application_number(application.number, application.created_at)
                what = (
                    "补贴已到账"
                    if event.details and event.details.get("voucher_number")
                    else STATUS_LABELS_ZH[ApplicationStatus(event.to_status)]
                )
                text = (
                    f"【青浦区批次贷】您的申请 {number or ''} 有新进展：{what}。"
                    "详情请登录青浦区批次贷企业服务查看“消息”。"
                )
                for phone in phones.get(application.enterprise_uscc, []):
                    await self._channel.send(to=phone, text=text, purpose="status_changed")
                cursor.last_event_id = max(cursor.last_event_id, event.id or 0)
        if news:
            log.info("notices.texted", steps=len(news))
        return len(news)
