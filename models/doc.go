// Package models holds Herald's data: gorm structs, the queries on them and
// the transactions that change them.
//
// Every query runs through a *Store, which works the same on the embedded
// SQLite file and on PostgreSQL. Engine differences (locking, upserts) stay
// inside single functions here; callers never import gorm. Missing rows come
// back as ErrNotFound and bad input as a *ValidationError.
package models
