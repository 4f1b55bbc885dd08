-- The duty desk, and the shared mechanisms it is the first to use: the working-day calendar,
-- deadlines, notifications (with the e-mail outbox) and the timeline.
-- The PostgreSQL twin of this file must define the same tables, columns and indexes.

-- Where e-mail notifications go.
ALTER TABLE users ADD COLUMN email TEXT;

-- Holiday arrangements an administrator entered; years not here use the data built into Beacon.
CREATE TABLE calendar_years (
    year        BIGINT NOT NULL PRIMARY KEY,
    holidays    TEXT NOT NULL,
    workdays    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT
);

-- Every clock in the system. `stages` is a JSON array of {"at": ms, "stage": name} in order;
-- `next_stage` indexes the next to fire and `next_at` is its time (NULL when nothing is left).
-- The scheduler claims a stage by advancing `next_stage` conditionally, so it fires once even
-- when several instances run.
CREATE TABLE deadlines (
    id            TEXT NOT NULL PRIMARY KEY,
    kind          TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    unit_id       TEXT REFERENCES units (id),
    due_at        BIGINT NOT NULL,
    stages        TEXT NOT NULL,
    next_stage    BIGINT NOT NULL,
    next_at       BIGINT,
    done_at       BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX ix_deadlines_next ON deadlines (next_at);
CREATE INDEX ix_deadlines_subject ON deadlines (subject_type, subject_id);

CREATE TABLE notifications (
    id            TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    unit_id       TEXT,
    subject_type  TEXT,
    subject_id    TEXT,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    read_at       BIGINT
);
CREATE INDEX ix_notifications_user ON notifications (user_id, created_at);

CREATE TABLE email_outbox (
    id               TEXT NOT NULL PRIMARY KEY,
    notification_id  TEXT REFERENCES notifications (id) ON DELETE CASCADE,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX ix_email_outbox_next ON email_outbox (next_attempt_at);

-- What happened to a case-like record, in order: the history the UI shows.
CREATE TABLE timeline (
    id            TEXT NOT NULL PRIMARY KEY,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    unit_id       TEXT,
    at            BIGINT NOT NULL,
    actor_id      TEXT,
    actor_name    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX ix_timeline_subject ON timeline (subject_type, subject_id, at);

CREATE TABLE duty_settings (
    unit_id     TEXT NOT NULL PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,
    settings    TEXT NOT NULL,
    duty_phone  TEXT,
    updated_at  BIGINT NOT NULL
);

-- Reinforced periods (重要时段): stricter staffing for a unit and everything beneath it.
CREATE TABLE duty_periods (
    id              TEXT NOT NULL PRIMARY KEY,
    unit_id         TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT NOT NULL,
    leaders         BIGINT NOT NULL,
    min_staff       BIGINT NOT NULL,
    leader_on_site  BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ix_duty_periods_unit ON duty_periods (unit_id, starts_at);

CREATE TABLE duty_leaves (
    id          TEXT NOT NULL PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id     TEXT NOT NULL REFERENCES units (id),
    kind        TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    note        TEXT,
    created_by  TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ix_duty_leaves_user ON duty_leaves (user_id, starts_at);
CREATE INDEX ix_duty_leaves_unit ON duty_leaves (unit_id, starts_at);

CREATE TABLE duty_shifts (
    id            TEXT NOT NULL PRIMARY KEY,
    unit_id       TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    shift_key     TEXT NOT NULL,
    shift_name    TEXT NOT NULL,
    local_date    TEXT NOT NULL,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    status        TEXT NOT NULL,
    published_at  BIGINT,
    closed_at     BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_duty_shifts_day ON duty_shifts (unit_id, local_date, shift_key);
CREATE INDEX ix_duty_shifts_unit ON duty_shifts (unit_id, starts_at);

CREATE TABLE duty_assignments (
    id             TEXT NOT NULL PRIMARY KEY,
    shift_id       TEXT NOT NULL REFERENCES duty_shifts (id) ON DELETE CASCADE,
    unit_id        TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    slot_key       TEXT NOT NULL,
    slot_kind      TEXT NOT NULL,
    starts_at      BIGINT NOT NULL,
    ends_at        BIGINT NOT NULL,
    checked_in_at  BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX ix_duty_assignments_shift ON duty_assignments (shift_id);
CREATE INDEX ix_duty_assignments_user ON duty_assignments (user_id, starts_at);

CREATE TABLE duty_swaps (
    id                    TEXT NOT NULL PRIMARY KEY,
    unit_id               TEXT NOT NULL REFERENCES units (id),
    assignment_id         TEXT NOT NULL REFERENCES duty_assignments (id) ON DELETE CASCADE,
    requester_id          TEXT NOT NULL REFERENCES users (id),
    target_user_id        TEXT NOT NULL REFERENCES users (id),
    target_assignment_id  TEXT REFERENCES duty_assignments (id) ON DELETE CASCADE,
    reason                TEXT NOT NULL,
    status                TEXT NOT NULL,
    responded_at          BIGINT,
    decided_by            TEXT,
    decided_at            BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX ix_duty_swaps_unit ON duty_swaps (unit_id, created_at);
CREATE INDEX ix_duty_swaps_target ON duty_swaps (target_user_id, status);

CREATE TABLE duty_handovers (
    shift_id              TEXT NOT NULL PRIMARY KEY REFERENCES duty_shifts (id) ON DELETE CASCADE,
    unit_id               TEXT NOT NULL,
    open_items            TEXT NOT NULL,
    notes                 TEXT NOT NULL,
    written_by            TEXT NOT NULL,
    written_by_name       TEXT NOT NULL,
    written_at            BIGINT NOT NULL,
    next_shift_id         TEXT,
    acknowledged_by       TEXT,
    acknowledged_by_name  TEXT,
    acknowledged_at       BIGINT
);

-- The duty log (值班日志): every call or message received (接报). incident_id links the entry to
-- the incident opened from it.
CREATE TABLE duty_log (
    id                TEXT NOT NULL PRIMARY KEY,
    unit_id           TEXT NOT NULL REFERENCES units (id),
    shift_id          TEXT REFERENCES duty_shifts (id) ON DELETE SET NULL,
    received_at       BIGINT NOT NULL,
    channel           TEXT NOT NULL,
    category          TEXT NOT NULL,
    caller_name       TEXT NOT NULL,
    caller_unit       TEXT NOT NULL,
    caller_phone      TEXT NOT NULL,
    place             TEXT NOT NULL,
    summary           TEXT NOT NULL,
    actions           TEXT NOT NULL,
    instructions      TEXT NOT NULL,
    follow_up         BOOLEAN NOT NULL,
    incident_id       TEXT,
    recorded_by       TEXT NOT NULL,
    recorded_by_name  TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX ix_duty_log_unit ON duty_log (unit_id, received_at);
CREATE INDEX ix_duty_log_shift ON duty_log (shift_id);

-- Calendar subscription links: only the SHA-256 of the secret is kept.
CREATE TABLE duty_feeds (
    id            TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id       TEXT REFERENCES units (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE UNIQUE INDEX ux_duty_feeds_hash ON duty_feeds (token_hash);
CREATE INDEX ix_duty_feeds_user ON duty_feeds (user_id);
