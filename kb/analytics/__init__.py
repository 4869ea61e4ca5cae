"""What readers do and what they do not find: events (searches, clicks, views, votes) recorded off the request path,
scrubbed of personal data, kept for a set number of days, rolled up by day and read as reports.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.analytics.events import SEARCH_ID, EventLog, SearchEvent, elapsed_ms
from kb.analytics.gaps import Topic, content_gaps, failed_queries
from kb.analytics.reports import CLICK_SURFACES, MAX_LIMIT, REPORTS, SURFACES, Column, Period, Report, run_report
from kb.analytics.retention import UpkeepLoop, purge_events
from kb.analytics.rollups import roll_up
from kb.analytics.scrub import Scrubber, scrubber

__all__ = [
    "CLICK_SURFACES",
    "MAX_LIMIT",
    "REPORTS",
    "SEARCH_ID",
    "SURFACES",
    "Column",
    "EventLog",
    "Period",
    "Report",
    "Scrubber",
    "SearchEvent",
    "Topic",
    "UpkeepLoop",
    "content_gaps",
    "elapsed_ms",
    "failed_queries",
    "purge_events",
    "roll_up",
    "run_report",
    "scrubber",
]
