"""The score watch of portfolio monitoring: a ``score_change`` trigger when a monitored person's score has
moved, either way, by at least the threshold the lender set on its registration, since the score last told.

Scores move when a file changes (an account, a late payment, an inquiry) and as time passes (the file ages), so
the watch looks at every watched registration, a page at a time, rather than at the changes: each person's
score is computed once a look as a lender's report shows it (the released bureau scorecard, the shown
tradelines, the hard inquiries of the last 400 days, observed at the end of the newest complete period), and
compared with each registration's baseline. The first look only sets the baseline; a change of at least the
threshold writes the trigger (category ``score_fell`` or ``score_rose``, never the score itself: the lender
makes an account-review inquiry for it, logged on the person's file) and moves the baseline, in one
transaction per page, so a look cut short neither loses nor repeats a trigger. It sits here, above the
scoring, tradelines and monitoring domains, because it reads a file as a report does. Run by ``openbureau
webhooks scores`` (daily, from the bureau's scheduler, or as often as wished).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from openbureau.accounts import service as accounts
from openbureau.disputes.investigation import marks_of
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.db import session_scope
from openbureau.kit.periods import last_complete_period, period_end
from openbureau.monitoring import triggers
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.policy import Policy
from openbureau.reports.items import shown_tradelines
from openbureau.scoring.service import released_model, score_file
from openbureau.tradelines.history import build_tradelines

INQUIRY_WINDOW = timedelta(days=400)  # the scorecard counts hard inquiries of the last 12 months
PAGE = 500


@dataclass(slots=True)
class WatchResult:
    """What a look did: registrations looked at, baselines set for the first time, triggers written, and
    persons the scorecard cannot score (their registrations wait)."""

    looked: int = 0
    baselines: int = 0
    triggers: int = 0
    unscorable: int = 0


def watch_scores(engine: Engine, *, policy: Policy, now: datetime | None = None, page: int = PAGE) -> WatchResult:
    """Look at every registration whose score is watched; write the triggers of the scores that moved by
    their threshold. Nothing to do (and nothing read) without a released bureau scorecard."""
    now = now or datetime.now(UTC)
    result = WatchResult()
    observed = period_end(last_complete_period(now.date()))
    after = 0
    while True:
        with session_scope(engine, read_only=True) as session:
            card = released_model(session)
            if card is None:
                return result
            subjects = MonitoringRepository(session.connection()).score_watched(after_id=after, limit=page)
            if not subjects:
                return result
            persons = sorted({s.person_id for s in subjects})
            files = accounts.files_of(session, persons)
            hard = InquiryRepository(session).hard_of_persons(persons, since=now - INQUIRY_WINDOW, until=now)
            scores: dict[int, int | None] = {}
            for person_id in persons:
                lines = build_tradelines(files.get(person_id, []), as_of=now.date(),
                                         retention_years=policy.profile.negative_retention_years)
                lines = shown_tradelines(lines, marks_of(session, person_id=person_id, now=now).hidden)
                view = score_file(card, tradelines=lines, hard_inquiries=hard.get(person_id, ()), observed=observed)
                scores[person_id] = round(view.score) if view.scorable else None
        baselines: dict[int, int] = {}
        causes = []
        for subject in subjects:
            score = scores[subject.person_id]
            result.looked += 1
            if score is None:
                result.unscorable += 1
            elif subject.score_baseline is None:
                baselines[subject.id] = score
                result.baselines += 1
            elif abs(score - subject.score_baseline) >= subject.score_threshold:
                baselines[subject.id] = score
                causes.append((subject, triggers.SCORE_CHANGE,
                               "score_fell" if score < subject.score_baseline else "score_rose", now))
        with session_scope(engine, write=True) as session:
            conn = session.connection()
            MonitoringRepository(conn).set_baselines(baselines)
            result.triggers += triggers.write_for_subjects(conn, causes, now=now)
        after = subjects[-1].id
