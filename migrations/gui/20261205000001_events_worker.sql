-- The events worker (gui worker): who is active, and one notification per candidate
-- and offer however often an event is delivered.

-- When the candidate was last seen (a session opened or used): the worker re-matches
-- candidates active within WORKER_ACTIVE_DAYS. Kept from the sessions by a trigger, so
-- that a log-out (which deletes the session) does not forget it.
ALTER TABLE users ADD COLUMN last_active_at timestamptz;
UPDATE users u SET last_active_at = (SELECT max(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id);
CREATE INDEX users_active ON users (last_active_at);

CREATE FUNCTION touch_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE gui.users SET last_active_at = NEW.last_seen_at
    WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_seen_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER sessions_touch_user AFTER INSERT OR UPDATE OF last_seen_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION touch_user();

-- A candidate is told of an offer once: an event delivered twice inserts nothing more.
DELETE FROM notifications a USING notifications b
WHERE a.user_id = b.user_id AND a.offer_external_id = b.offer_external_id
  AND (a.created_at, a.id) > (b.created_at, b.id);
CREATE UNIQUE INDEX notifications_once ON notifications (user_id, offer_external_id)
    WHERE offer_external_id IS NOT NULL;

-- The nightly refresh's days: one replica runs it (an advisory lock), and a day it
-- finished is not run again; a replica that dies mid-run leaves no row, and the next
-- one to take the lock re-matches the candidates still past 24 h.
CREATE TABLE nightly_runs (
    day         date PRIMARY KEY,
    finished_at timestamptz NOT NULL DEFAULT now(),
    rematched   integer NOT NULL
);
