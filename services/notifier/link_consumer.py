"""The ``link-visits`` part of the notifier's batch: hot-engagement alerts to the rep.

The notifier's one consumer (``consumer.AlertConsumer``, group ``notifier``) also reads
``link-visits``; each batch hands the fresh ``LinkVisitUpdate`` records here, inside the
transaction that stores its offsets. Per update, in offset order: the link and its rep
come from ``share_links`` (never from the message: the bus is not trusted with who gets an
alert), the rep's settings from ``share_alert_preferences``, the pure rules
(``link_alerts``) decide, and each alert claims its (link, rule) in ``link_alert_state``,
is stored in ``alerts`` and goes into the outbox at once: email to the rep (unless they
turned email off), their webhook if they set one, held only by their quiet hours. The
owners' digest mode does not apply: these alerts are worth something only while fresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import asyncpg

from shared.share_links import LinkVisitUpdate

from .link_alerts import LinkAlert, evaluate_link_visit
from .link_state_repo import claim_link_rule, fired_link_rules, insert_link_alert
from .reads.ratings import OwnerSettings, link_contexts, owner_settings
from .recipients import Preferences, targets_for
from .state_repo import write_delivery

__all__ = ["apply_link_visits", "decode_link_visit"]


def decode_link_visit(value: bytes | None) -> LinkVisitUpdate | None:
    """The update, or None for anything that is not one (the caller dead-letters it)."""
    try:
        return LinkVisitUpdate.model_validate_json(value or b"")
    except Exception:  # noqa: BLE001 - whatever the bytes, the partition must move on
        return None


async def apply_link_visits(conn: asyncpg.Connection, updates: Sequence[LinkVisitUpdate],
                            now: datetime) -> int:
    """Decide and store the alerts of ``updates`` in the caller's transaction; returns how
    many new alerts were raised."""
    if not updates:
        return 0
    links = await link_contexts(conn, [u.link_id for u in updates])
    updates = [u for u in updates if u.link_id in links]
    if not updates:
        return 0
    fired = dict(await fired_link_rules(conn, list(links)))
    owners = await owner_settings(conn, [link.creator_email for link, _ in links.values()])
    raised = 0
    for update in updates:
        link, settings = links[update.link_id]
        already = fired.get(link.link_id, frozenset())
        for alert in evaluate_link_visit(update, link, settings, already, now):
            already = already | {alert.rule}
            if await _raise(conn, alert, owners, now):
                raised += 1
        fired[link.link_id] = already
    return raised


async def _raise(conn: asyncpg.Connection, alert: LinkAlert, owners: OwnerSettings,
                 now: datetime) -> bool:
    if not await claim_link_rule(conn, alert.link_id, alert.rule, now):
        return False  # a concurrent batch fired it first
    alert_id = await insert_link_alert(conn, alert, now)
    if alert_id is None:
        return False
    prefs = replace(owners.preferences_for(alert.rep_email) or Preferences(), mode="immediate")
    for target in targets_for(alert.rep_email, prefs, now, digest_hour=0):
        await write_delivery(conn, alert_id, replace(target, due_at=alert.due_at))
    return True
