"""Notifier metrics, declared once."""

from prometheus_client import Counter

__all__ = ["ALERTS", "DEAD_LETTERED"]

#: raised: a new alert episode committed; sent / retrying / failed: one delivery attempt's
#: outcome (a delivery is one message to one recipient on one channel).
ALERTS = Counter("glassboard_alerts_total", "Alerts raised, and delivery attempts by outcome",
                 ["outcome"])
DEAD_LETTERED = Counter("glassboard_notifier_dead_lettered_total",
                        "Records the notifier sent to the dead-letter topic")
