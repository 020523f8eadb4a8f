// Package migrations embeds Herald's versioned SQL schema changes.
//
// Each engine has its own folder because SQLite and PostgreSQL differ in
// types and DDL. Files are named NNNN_description.sql and applied in order;
// models.Migrate records each applied version in schema_migrations.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
