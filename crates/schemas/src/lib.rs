//! The database's layout, in one place: the SQL a superuser runs first
//! (`migrations/bootstrap.sql`: roles, the `vector` extension, schemas owned by their
//! roles, grants), and each schema with the role that owns it and its migrations
//! (`migrations/<schema>/`). platform applies them ([`platform::db::migrate`]) without
//! knowing which services exist; each service names its own set, tests and tools name
//! them all ([`ALL`]).

use platform::db::SchemaMigrations;

/// The `offers` schema, owned by offre-ingestion's role.
pub static OFFERS: SchemaMigrations = SchemaMigrations {
    schema: "offers",
    role: "jobmatch_offers",
    migrator: sqlx::migrate!("../../migrations/offers"),
};

/// The `gui` schema, owned by gui's role.
pub static GUI: SchemaMigrations = SchemaMigrations {
    schema: "gui",
    role: "jobmatch_gui",
    migrator: sqlx::migrate!("../../migrations/gui"),
};

/// Every set, in the order a fresh database gets them.
pub static ALL: [&SchemaMigrations; 2] = [&OFFERS, &GUI];

/// matching's role: it reads the gold tables of `offers`, nothing else.
pub const MATCHING_ROLE: &str = "jobmatch_matching";

/// What needs a superuser, before any service starts (run by
/// [`platform::db::bootstrap`]).
pub const BOOTSTRAP_SQL: &str = include_str!("../../../migrations/bootstrap.sql");
