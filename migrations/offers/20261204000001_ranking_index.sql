-- matching's hybrid ranking keeps an index of the active offers in memory (words,
-- titles, ROME jobs, skills) and follows their changes.
--
-- Each write to an offer records the transaction that made it (changed_xid): matching
-- reads the rows written by transactions its previous snapshot did not see, which is
-- exact even when transactions commit out of the order they started in. A statement
-- that changes offers notifies `offers_changed` at commit, so matching need not wait for
-- its next poll.

ALTER TABLE offers.offers ADD COLUMN changed_xid xid8;
CREATE INDEX offers_changed_xid ON offers.offers (changed_xid);

CREATE FUNCTION offers.offer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER offers_changed_xid BEFORE INSERT OR UPDATE ON offers.offers
    FOR EACH ROW EXECUTE FUNCTION offers.offer_changed();

CREATE FUNCTION offers.notify_offers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('offers_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER offers_changed_notify AFTER INSERT OR UPDATE OR DELETE ON offers.offers
    FOR EACH STATEMENT EXECUTE FUNCTION offers.notify_offers_changed();

-- matching reads what it indexes; it still writes nothing.
GRANT SELECT ON offers.offers, offers.offer_skills TO jobmatch_matching;
