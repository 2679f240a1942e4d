"""The side panel's conversations, by job.

- `use_cases`: `Conversations`, the use cases over the ports (context, plan, apply, export);
- `document`: an occurrence's document (agenda + record) as it is stored, and occurrence keys;
- `parsing`: request bodies and change ops read into domain values;
- `shapes`: the JSON shapes answered (the OpenAPI `Context` and its parts) and the turn sentence;
- `errors`: the refusals the API turns into a status and a translated message;
- `people`: the caller and the directory's entries.
"""

from addin.conversations.errors import (
    Changed,
    Forbidden,
    Invalid,
    Missing,
    PreconditionRequired,
    ServiceError,
)
from addin.conversations.people import Caller
from addin.conversations.shapes import turn_message
from addin.conversations.use_cases import SERIES_PROPERTY, Conversations
from connectors.models import KnownPerson

__all__ = [
    "SERIES_PROPERTY",
    "Caller",
    "Changed",
    "Conversations",
    "Forbidden",
    "Invalid",
    "KnownPerson",
    "Missing",
    "PreconditionRequired",
    "ServiceError",
    "turn_message",
]
