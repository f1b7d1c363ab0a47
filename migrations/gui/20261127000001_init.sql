-- Foundation of the `gui` schema, owned by gui's role (jobmatch_gui), which applies
-- these migrations with search_path = gui, public (see platform::db::migrate); the schema
-- itself is made by migrations/bootstrap.sql. Tables arrive with the GUI.

-- Profiles keep the CV embedding as a pgvector column (the extension is the
-- bootstrap's; here too for a superuser run without it).
CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;

-- No other service's role may read candidates' data.
REVOKE ALL ON SCHEMA gui FROM PUBLIC;
