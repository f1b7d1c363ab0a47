-- Foundation of the `gui` schema (owned by gui). Tables arrive with the GUI.
-- Runs with search_path = gui, public (see platform::db::migrate).

-- Profiles keep the CV embedding as a pgvector column.
CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;

CREATE SCHEMA IF NOT EXISTS gui;

-- No other service's role may read candidates' data.
REVOKE ALL ON SCHEMA gui FROM PUBLIC;
