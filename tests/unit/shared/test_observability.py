"""shared/observability.py's logging, with real handlers: ``glassboard dev``'s console
keeps Glassboard's own lines and every warning while the other libraries' INFO chatter goes
only to the log file (which holds every line); in production, JSON lines that carry the
event ids."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.observability import configure_logging

LIBRARY_LOGGERS = ("aiokafka.consumer.group_coordinator", "uvicorn", "uvicorn.error",
                   "glassboard.faststream", "aiokafka.conn")


@pytest.fixture
def dev_logging(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """Set up after capsys, so the console handler writes to the captured stderr. The
    libraries' loggers start as in a fresh process: an earlier test's uvicorn server gave
    ``uvicorn`` its own handler (not propagating) and ``uvicorn.error`` the WARNING level."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    libraries = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved_states = [(logger.level, logger.propagate, logger.handlers[:]) for logger in libraries]
    for logger in libraries:
        logger.setLevel(logging.NOTSET)
        logger.propagate, logger.handlers[:] = True, []
    log_file = tmp_path / "dev.log"
    configure_logging("INFO", "text", log_file=log_file)
    try:
        yield log_file
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)
        for logger, (level, propagate, handlers) in zip(libraries, saved_states):
            logger.setLevel(level)
            logger.propagate, logger.handlers[:] = propagate, handlers


def test_library_info_goes_to_the_file_only_and_ours_stays_on_the_console(
    dev_logging: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("aiokafka.consumer.group_coordinator").info(
        "Joined group 'glassboard-aggregator' (generation 1) with member_id aiokafka-0")
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("glassboard.faststream").info("HandleEvents waiting for messages")
    logging.getLogger("services.aggregator.handlers").info("score state caught up")
    logging.getLogger("glassboard.mail").info("sign-in link sent")
    logging.getLogger("aiokafka.conn").warning("Unable to connect to node 1")
    logging.getLogger("services.notifier.main").debug("below the level: nowhere")

    console = capsys.readouterr().err
    assert "score state caught up" in console and "sign-in link sent" in console
    assert "Unable to connect to node 1" in console  # a library's warning stays in view
    for chatter in ("Joined group", "Application startup complete", "waiting for messages"):
        assert chatter not in console

    logged = dev_logging.read_text(encoding="utf-8")
    lines = logged.splitlines()
    assert len(lines) == 6 and "below the level" not in logged
    assert lines[0].split()[2:5] == ["INFO", "aiokafka.consumer.group_coordinator", "Joined"]
    assert "score state caught up" in logged and "Unable to connect to node 1" in logged


def test_without_a_log_file_every_line_stays_on_the_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", "text")
        logging.getLogger("aiokafka.consumer.group_coordinator").info("Joined group")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert "Joined group" in capsys.readouterr().err


def test_logs_are_json_lines_that_carry_the_event_ids(capsys: object) -> None:
    import json
    import logging

    from shared.observability import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", "json")
        logging.getLogger("services.aggregator.handlers").warning(
            "event dead-lettered: %s", "the database refused it",
            extra={"event_id": "0b0e6c9e-5d1c-4f7a-9a51-2b3c4d5e6f70", "asset_id": "deck"})
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = capsys.readouterr().err.strip().splitlines()[-1]  # type: ignore[attr-defined]
    record = json.loads(line)
    assert record["message"] == "event dead-lettered: the database refused it"
    assert record["event_id"] == "0b0e6c9e-5d1c-4f7a-9a51-2b3c4d5e6f70"
    assert record["level"] == "WARNING" and record["logger"] == "services.aggregator.handlers"
    assert "time" in record
