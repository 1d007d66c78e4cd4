//! Integration tests of recon-store against real databases: SQLite files in temporary
//! directories, and a PostgreSQL server (`DATABASE_URL`, or a throwaway cluster).

mod fixtures;
mod manual;
mod migrations;
mod pg;
mod scenarios;
mod schema;
mod sqlite;
