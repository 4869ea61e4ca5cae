"""What readers do and what they do not find: events (searches, clicks, views) recorded off the request path,
scrubbed of personal data, kept for a set number of days.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.analytics.events import SEARCH_ID, EventLog, SearchEvent, elapsed_ms
from kb.analytics.retention import PurgeLoop, purge_events
from kb.analytics.scrub import Scrubber, scrubber

__all__ = ["SEARCH_ID", "EventLog", "PurgeLoop", "Scrubber", "SearchEvent", "elapsed_ms", "purge_events", "scrubber"]
