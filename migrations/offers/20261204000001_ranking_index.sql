-- matching's hybrid ranking keeps an index of the active offers in memory (words,
-- titles, ROME jobs, skills) and follows their changes.
--
-- Each write to an offer records the transaction that made it (changed_xid), and each
-- deletion leaves a tombstone with its transaction: matching reads the rows and
-- tombstones written by transactions its previous snapshot did not see, which is exact
-- even when transactions commit out of the order they started in. A statement that
-- changes offers notifies `offers_changed` at commit, so matching need not wait for its
-- next poll.

ALTER TABLE offers.offers ADD COLUMN changed_xid xid8;
CREATE INDEX offers_by_changed_xid ON offers.offers (changed_xid);

-- Offers are archived, not deleted, by the pipeline; a deletion by hand still reaches
-- matching. Tombstones are tiny and few.
CREATE TABLE offers.deleted_offers (
    offer_id    text NOT NULL,
    deleted_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX deleted_offers_by_xid ON offers.deleted_offers (deleted_xid);

CREATE FUNCTION offers.offer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER offers_stamp_insert BEFORE INSERT ON offers.offers
    FOR EACH ROW EXECUTE FUNCTION offers.offer_changed();
-- An update that changes nothing leaves the row as it was.
CREATE TRIGGER offers_stamp_update BEFORE UPDATE ON offers.offers
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION offers.offer_changed();

CREATE FUNCTION offers.offer_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO offers.deleted_offers (offer_id) VALUES (OLD.id);
    RETURN OLD;
END
$$;

CREATE TRIGGER offers_tombstone AFTER DELETE ON offers.offers
    FOR EACH ROW EXECUTE FUNCTION offers.offer_deleted();

CREATE FUNCTION offers.notify_offers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('offers_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER offers_notify AFTER INSERT OR UPDATE OR DELETE ON offers.offers
    FOR EACH STATEMENT EXECUTE FUNCTION offers.notify_offers_changed();

-- matching reads what it indexes; it still writes nothing.
GRANT SELECT ON offers.offers, offers.offer_skills, offers.deleted_offers TO jobmatch_matching;
