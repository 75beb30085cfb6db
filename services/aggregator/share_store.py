"""The aggregator's SQL on ``link_visits`` (share-link opens), inside apply_events'
transaction: a visit is inserted only for an open whose event is new, so a redelivered open
is never a second visit, and dwell adds to a visit only from new dwell events.

The rules are pure, in link_visits.py; reads of ``share_links`` go through reads/ratings.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from uuid import UUID

import asyncpg

from shared.events import EventEnvelope
from shared.share_links import LinkVisitUpdate

from .link_visits import LinkInfo, Visit, decide_opens, dwell_gains, is_share_open, visit_updates
from .reads.ratings import share_links

__all__ = ["apply_share_visits", "links_of"]

# Opens of one link are decided one batch at a time: two aggregators briefly sharing a
# partition (a rebalance) must not both number the same forward.
LOCK_LINKS = """
SELECT pg_advisory_xact_lock(hashtextextended('link_visits:' || l, 0))
FROM (SELECT unnest($1::text[]) AS l ORDER BY 1) AS s
"""

VISIT_COLUMNS = """event_id, link_id, asset_id, opened_at, browser_key, forwarded, forward_no,
gate_email_hash, device_class, os, browser, engaged_ms, pages"""

SELECT_VISITS_OF_LINKS = f"SELECT {VISIT_COLUMNS} FROM link_visits WHERE link_id = any($1::text[])"

SELECT_LINKS_OF_VISITS = f"""
SELECT {VISIT_COLUMNS} FROM link_visits
WHERE link_id IN (SELECT link_id FROM link_visits WHERE event_id = any($1::uuid[]))
"""

INSERT_VISITS = """
INSERT INTO link_visits (event_id, link_id, asset_id, opened_at, browser_key, forwarded,
                         forward_no, gate_email_hash, device_class, os, browser)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                     $6::boolean[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[])
ON CONFLICT (event_id) DO NOTHING
"""

# pages travel as int[] literals ('{1,3}'): unnest flattens an int[][] argument.
ADD_DWELL = """
UPDATE link_visits v SET
    engaged_ms = v.engaged_ms + d.engaged_ms,
    pages = ARRAY(SELECT DISTINCT p FROM unnest(v.pages || d.pages::int[]) AS p ORDER BY p)
FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS d(view_id, engaged_ms, pages)
WHERE v.event_id = d.view_id
"""


async def links_of(conn: asyncpg.Connection, events: Sequence[EventEnvelope]) -> dict[str, LinkInfo]:
    """The share links the batch's share opens name."""
    ids = sorted({e.link_id for e in events if is_share_open(e) and e.link_id is not None})
    return {r["id"]: LinkInfo(r["id"], r["asset_id"], r["creator_id"], r["asset_deleted"])
            for r in await share_links(conn, ids)}


def _visit(r: asyncpg.Record) -> Visit:
    return Visit(
        event_id=r["event_id"], link_id=r["link_id"], asset_id=r["asset_id"],
        opened_at=r["opened_at"], browser_key=r["browser_key"], forwarded=r["forwarded"],
        forward_no=r["forward_no"], gate_email_hash=r["gate_email_hash"],
        device_class=r["device_class"], os=r["os"], browser=r["browser"],
        engaged_ms=r["engaged_ms"], pages=tuple(r["pages"]),
    )


async def apply_share_visits(
    conn: asyncpg.Connection,
    countable: Sequence[EventEnvelope],
    new_events: Sequence[EventEnvelope],
    links: dict[str, LinkInfo],
) -> list[LinkVisitUpdate]:
    """Insert the visits of new share opens, add new dwell to its visit, and return the
    state of every visit the batch names (opens by event_id, dwell by view_id). A replayed
    batch changes nothing but re-sends those states, like asset-scores: a crash between
    the commit and the publish loses no update."""
    await _insert_visits(conn, [e for e in new_events if is_share_open(e)])
    gains = dwell_gains(new_events)
    if gains:
        rows = sorted((view_id, g.engaged_ms, "{" + ",".join(map(str, sorted(g.pages))) + "}")
                      for view_id, g in gains.items())
        await conn.execute(ADD_DWELL, *[[row[i] for row in rows] for i in range(3)])
    named: set[UUID] = {e.event_id for e in countable if is_share_open(e)}
    named |= set(dwell_gains(countable))
    if not named:
        return []
    visits = [_visit(r) for r in await conn.fetch(SELECT_LINKS_OF_VISITS, sorted(named, key=str))]
    if not visits:
        return []
    missing = sorted({v.link_id for v in visits} - set(links))
    creators = {link_id: link.creator_id for link_id, link in links.items()}
    creators.update((r["id"], r["creator_id"]) for r in await share_links(conn, missing))
    return visit_updates(visits, named, creators, datetime.now(timezone.utc))


async def _insert_visits(conn: asyncpg.Connection, opens: Sequence[EventEnvelope]) -> None:
    link_ids = sorted({e.link_id for e in opens if e.link_id is not None})
    if not link_ids:
        return
    await conn.execute(LOCK_LINKS, link_ids)
    prior: dict[str, list[Visit]] = {}
    for r in await conn.fetch(SELECT_VISITS_OF_LINKS, link_ids):
        prior.setdefault(r["link_id"], []).append(_visit(r))
    made = [visit for link_id in link_ids for visit in decide_opens(
        prior.get(link_id, []), [e for e in opens if e.link_id == link_id])]
    rows = sorted(((v.event_id, v.link_id, v.asset_id, v.opened_at, v.browser_key, v.forwarded,
                    v.forward_no, v.gate_email_hash, v.device_class, v.os, v.browser)
                   for v in made), key=lambda r: str(r[0]))
    await conn.execute(INSERT_VISITS, *[[row[i] for row in rows] for i in range(11)])
