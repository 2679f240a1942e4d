"""Every table of the server store, in one metadata: what the migrations create, as code sees it.

The migrations under `migrations/versions` are the schema's source of truth at run time; these
Table objects are what queries are written against, and a test holds the two to each other
(Alembic's `compare_metadata` finds no difference after `upgrade`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

series_table = Table(
    "series",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("employee_email", String(320), nullable=False, index=True),
    Column("employee_name", String(200), nullable=False),
    Column("employee_tz", String(64), nullable=False),
    Column("employee_locale", String(8), nullable=False),
    Column("manager_email", String(320), nullable=False, index=True),
    Column("manager_name", String(200), nullable=False),
    Column("manager_tz", String(64), nullable=False),
    Column("manager_locale", String(8), nullable=False),
    Column("tz", String(64), nullable=False),
    Column("rule", Text, nullable=False),
    Column("duration", Integer, nullable=False),
    Column("place", String(200), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("event_copy", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    Column("master_event_id", String(512), nullable=True),
    Column("ical_uid", String(512), nullable=True, index=True),
    Column("created", DateTime(timezone=True), nullable=False),
    # Both partners' addresses while the series is active (see `addin.registry.pair_key`): the
    # database, not a read before the insert, makes a second series for the same pair impossible,
    # even when two plan requests race. Ending a series clears it.
    Column("active_pair", String(641), nullable=True),
    Index("ix_series_active_pair", "active_pair", unique=True),
    # When the background sweep next needs to read the series: the earliest moment a reminder
    # could fall due as things stand (at most an hour on); empty after any change made here.
    Column("next_sweep", DateTime(timezone=True), nullable=True, index=True),
)

alias_table = Table(
    "event_alias",
    metadata,
    Column("user_email", String(320), primary_key=True),
    Column("event_id", String(512), primary_key=True),
    Column("series_id", String(64), nullable=False),
    # The occurrence this copy stands for (ISO UTC), when it is one: the next open then reads the
    # event and its documents at the same time, whatever the provider's ids look like.
    Column("occurrence", String(32), nullable=True),
)

accounts_table = Table(
    "accounts",
    metadata,
    # "entra" or "google"; the subject is "<tid>.<oid>" (Entra) or Google's "sub".
    Column("provider", String(32), primary_key=True),
    Column("subject", String(200), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("parked", Text, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Index("ix_accounts_provider_email", "provider", "email"),
)

account_secrets_table = Table(
    "account_secrets",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("subject", String(200), primary_key=True),
    # `addin.signin.vault.seal_secret`'s output: never the plaintext token cache.
    Column("sealed", LargeBinary, nullable=False),
    Column("kek_id", String(64), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["provider", "subject"],
        ["accounts.provider", "accounts.subject"],
        name="fk_account_secrets_account",
        ondelete="CASCADE",
    ),
)

manager_history_table = Table(
    "series_manager_history",
    metadata,
    # Who was a series' manager and when: a hand-over after a change of manager in the directory
    # ends one row's time. The former manager's access ends with it; the records stay put.
    Column("series_id", String(64), primary_key=True),
    Column("manager_email", String(320), primary_key=True),
    Column("since", DateTime(timezone=True), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("successor_email", String(320), nullable=False),
)

person_hours_table = Table(
    "person_hours",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("days", String(32), nullable=False),  # RFC 5545 codes, Monday first: "MO TU TH"
    Column("start", String(5), nullable=False),  # "09:00", local to tz
    Column("end", String(5), nullable=False),
    Column("tz", String(64), nullable=False),  # IANA zone
    Column("updated", DateTime(timezone=True), nullable=False),
)

deliveries_table = Table(
    "deliveries",
    metadata,
    # One row per message the background sweep owes one person: `key` is the trigger's key and
    # the recipient (see `addin.background.ledger`). Inserting the row is the claim, so two
    # consumers never both send; a claim left by a consumer that died is taken over after its
    # lease, and the provider's idempotent send (the same key) makes that repeat safe.
    Column("key", String(400), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("series_id", String(64), nullable=False, index=True),
    Column("recipient", String(320), nullable=False),
    Column("due", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False, index=True),  # claimed, sent, skipped, failed
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("message_id", String(512), nullable=True),
    # Why it was skipped or last failed, in a word or two (never content): "off", "parked"...
    Column("note", String(200), nullable=False),
)

reminder_settings_table = Table(
    "reminder_settings",
    metadata,
    # What a person turned off of the mails the sweep sends, and the weekdays they want none.
    Column("email", String(320), primary_key=True),
    Column("off", String(100), nullable=False),  # trigger kinds, space-separated: "prepare agenda"
    Column("quiet", String(32), nullable=False),  # RFC 5545 weekday codes, Monday first: "WE"
    Column("updated", DateTime(timezone=True), nullable=False),
)

pending_documents_table = Table(
    "pending_documents",
    metadata,
    # A document saved while the employee's drive did not answer (`addin.conversations.pending`):
    # sealed under the server's key, read instead of the drive's copy until the worker has put it
    # there. `base_etag` is the drive's version it was made from (None: the drive had none).
    Column("series_id", String(64), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("owner", String(320), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("base_etag", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    # Digests of every version a write to the drive was tried with (space-separated): a drive
    # copy with one of them is this document's own, written by a try whose answer was lost.
    Column("written", Text, nullable=False),
    # Why the last delivery failed, in a word or two (never content).
    Column("note", String(200), nullable=False),
)

cadence_stats_table = Table(
    "cadence_stats",
    metadata,
    # What the sweep last counted of a series, for the HR cadence report: the dates of the
    # conversations held (ISO dates, space-separated, two years at most) and the next one
    # planned. Dates only: never a title, a topic or a word of what was said.
    Column("series_id", String(64), primary_key=True),
    Column("held", Text, nullable=False),
    Column("next_planned", DateTime(timezone=True), nullable=True),
    Column("updated", DateTime(timezone=True), nullable=False),
)

series_keys_table = Table(
    "series_keys",
    metadata,
    # Each series' server part of its data key's wrap (`connectors.sealed.ServerKeys`): random,
    # never in the drive. Erasure destroys it (part NULL, `destroyed` set): from then on no copy
    # of the series' documents opens, wherever it is kept. The row stays as a tombstone, so a
    # write racing the erasure cannot make a new part for the erased series.
    Column("series_id", String(64), primary_key=True),
    Column("part", LargeBinary, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("destroyed", DateTime(timezone=True), nullable=True),
)

erasures_table = Table(
    "erasures",
    metadata,
    # One row per erasure, the receipt's proof (`addin.erasure`): when, why (the employee, an
    # operator, retention), which series ids, and counts of what went. No names or addresses:
    # the receipt handed out carries those, the log does not.
    Column("id", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("series", Text, nullable=False),
    Column("counts", Text, nullable=False),
)

timeout_requests_table = Table(
    "timeout_requests",
    metadata,
    # How many time-outs (or requests for another conversation partner) a pair asked, per month
    # (YYYY-MM): the HR report's count. Never who asked, nor why: that stays in the sealed journal.
    Column("series_id", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("count", Integer, nullable=False),
)

feedback_asks_table = Table(
    "feedback_asks",
    metadata,
    # The open requests for feedback, by a keyed hash (HMAC with the app's key) of the colleague's
    # address: the colleague's own add-in finds what waits for them. No address, name, question
    # or answer: those stay in the employee's sealed journal. Gone once answered or withdrawn.
    Column("series_id", String(64), primary_key=True),
    Column("request_id", String(8), primary_key=True),
    Column("colleague", String(64), nullable=False),
    Column("expires", Date, nullable=False),
    Index("ix_feedback_asks_colleague", "colleague"),
)
