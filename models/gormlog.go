package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// quietLogger is gorm's slog logger with Herald's levels: an expected
// conflict (a duplicate key that the caller turns into "already exists" or
// an idempotent replay, a cancelled request) is a debug line, not an ERROR
// with its SQL; gorm's own messages are formatted, and the one it prints
// when it cannot connect is left out, since Open returns that error and
// Herald reports it once.
type quietLogger struct {
	logger.Interface
	l *slog.Logger
}

func (q quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{Interface: q.Interface.LogMode(level), l: q.l}
}

func (q quietLogger) Info(ctx context.Context, msg string, data ...any) {
	q.l.InfoContext(ctx, "database: "+strings.TrimSpace(fmt.Sprintf(msg, data...)))
}

func (q quietLogger) Warn(ctx context.Context, msg string, data ...any) {
	q.l.WarnContext(ctx, "database: "+strings.TrimSpace(fmt.Sprintf(msg, data...)))
}

func (q quietLogger) Error(ctx context.Context, msg string, data ...any) {
	if strings.HasPrefix(msg, "failed to initialize database") {
		return
	}
	q.l.ErrorContext(ctx, "database: "+strings.TrimSpace(fmt.Sprintf(msg, data...)))
}

func (q quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil && (errors.Is(err, gorm.ErrDuplicatedKey) || errors.Is(err, context.Canceled)) {
		if q.l.Enabled(ctx, slog.LevelDebug) {
			sql, _ := fc()
			q.l.DebugContext(ctx, "expected database conflict", "error", err.Error(), "sql", sql,
				"duration", time.Since(begin))
		}
		return
	}
	q.Interface.Trace(ctx, begin, fc, err)
}

// ParamsFilter keeps bound values out of logged SQL, as the wrapped logger
// does (ParameterizedQueries); gorm looks for it on the logger it holds.
func (q quietLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := q.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}
