"""What agents and bots use: suggestions for a ticket, answers for a bot, and the ledger of what was shown and what helped.

What the API and other callers use is named here; the modules beside it are its parts.
"""

from kb.assist.answers import Announced, Answer, Citation, Question, answer, question_request
from kb.assist.citations import MAX_QUOTE_CHARS, CitationRef, CitationStatus, Resolution, resolve_citation
from kb.assist.feedback import (
    CUSTOMER_OUTCOMES,
    OUTCOMES,
    REASONS,
    Feedback,
    FeedbackConflict,
    FeedbackSummary,
    InteractionNotFound,
    UnknownArticle,
    feedback_summary,
    record_feedback,
)
from kb.assist.suggestions import DEFAULT_SUGGESTIONS, MAX_TICKET_CHARS, Message, Suggestion, Suggestions, Ticket, suggest, ticket_request
from kb.assist.tickets import reduce_ticket_text

__all__ = [
    "CUSTOMER_OUTCOMES",
    "DEFAULT_SUGGESTIONS",
    "MAX_QUOTE_CHARS",
    "MAX_TICKET_CHARS",
    "OUTCOMES",
    "REASONS",
    "Announced",
    "Answer",
    "Citation",
    "CitationRef",
    "CitationStatus",
    "Feedback",
    "FeedbackConflict",
    "FeedbackSummary",
    "InteractionNotFound",
    "Message",
    "Question",
    "Resolution",
    "Suggestion",
    "Suggestions",
    "Ticket",
    "UnknownArticle",
    "answer",
    "feedback_summary",
    "question_request",
    "record_feedback",
    "reduce_ticket_text",
    "resolve_citation",
    "suggest",
    "ticket_request",
]
