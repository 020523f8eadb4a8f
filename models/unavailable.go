package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable marks an error as the database not answering, for
// callers that fail for that reason without a database error of their
// own to wrap.
var ErrUnavailable = errors.New("the database is not answering")

// IsUnavailable reports whether err means that the database did not
// answer, rather than that the request or the data was wrong: a deadline
// that passed while waiting on it (for a connection from the pool, for a
// lock, for an answer), a connection refused, reset or lost, a statement
// cancelled by statement_timeout, a server shutting down or out of
// connections, SQLite busy. Such requests are worth retrying later; web
// answers them with 503.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014", // query_canceled: statement_timeout
			pgErr.Code == "55P03",                // lock_not_available: lock_timeout
			pgErr.Code == "53300",                // too_many_connections
			strings.HasPrefix(pgErr.Code, "57P"), // admin_shutdown, crash_shutdown, cannot_connect_now
			strings.HasPrefix(pgErr.Code, "08"):  // connection exceptions
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var sqliteErr interface{ Code() int }
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case 5, 6, 9: // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_INTERRUPT (a deadline interrupted the statement)
			return true
		}
	}
	return false
}
