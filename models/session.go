package models

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// A user's own sessions: listed with where they came from, kept fresh,
// ended one by one or all but the one in use.

// sessionSeenResolution is how stale a session's last_seen_at may get:
// one write a minute per session, not one per request.
const sessionSeenResolution = time.Minute

// Handle names a session in pages and forms without giving its id away:
// the id is what the cookie carries, a handle cannot be turned into one.
func (s *Session) Handle() string {
	sum := sha256.Sum256([]byte(s.ID))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Browser is the session's browser and system in plain words.
func (s *Session) Browser() string { return Browser(s.UserAgent) }

// UserSessions lists a user's sessions that have not expired, the most
// recently seen first.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]Session, error) {
	var ss []Session
	if err := s.conn(ctx).Where("user_id = ? AND expires_at > ?", userID, s.Now()).
		Order("COALESCE(last_seen_at, created_at) DESC, created_at DESC").Find(&ss).Error; err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return ss, nil
}

// EndOtherSessions signs a user out everywhere but keepSessionID (the
// browser asking). It returns how many sessions ended.
func (s *Store) EndOtherSessions(ctx context.Context, userID int64, keepSessionID string) (int64, error) {
	return s.endSessions(ctx, userID, keepSessionID, "")
}

// ErrCurrentSession is returned when someone asks to end, as "another"
// session, the one they are using: they sign out instead.
var ErrCurrentSession = errors.New("this is the session in use")

// EndUserSession signs out one session of a user, named by its handle.
// The session in use (keepSessionID) is refused with ErrCurrentSession;
// a handle that names no session of this user is ErrNotFound.
func (s *Store) EndUserSession(ctx context.Context, userID int64, keepSessionID, handle string) error {
	if handle == (&Session{ID: keepSessionID}).Handle() {
		return ErrCurrentSession
	}
	n, err := s.endSessions(ctx, userID, keepSessionID, handle)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("end session %s of user %d: %w", handle, userID, ErrNotFound)
	}
	return nil
}

// endSessions deletes userID's sessions but keep ("" keeps none); only
// the one whose handle is only, when set. It audits user.sessions_end
// when any ended.
func (s *Store) endSessions(ctx context.Context, userID int64, keep, only string) (int64, error) {
	var ended int64
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Select("id", "email").First(&u, userID).Error; err != nil {
			return notFound(err)
		}
		var ss []Session
		if err := tx.Where("user_id = ? AND id <> ?", userID, keep).Find(&ss).Error; err != nil {
			return err
		}
		var ids []string
		var one *Session
		for i := range ss {
			if only == "" || ss[i].Handle() == only {
				ids = append(ids, ss[i].ID)
				one = &ss[i]
			}
		}
		if len(ids) == 0 {
			return nil
		}
		res := tx.Where("id IN ?", ids).Delete(&Session{})
		if res.Error != nil {
			return res.Error
		}
		ended = res.RowsAffected
		var summary string
		switch {
		case only != "":
			summary = fmt.Sprintf("Signed out a session of %s (%s", u.Email, one.Browser())
			if one.IP != "" {
				summary += " from " + one.IP
			}
			summary += ")."
		case keep != "":
			summary = fmt.Sprintf("Signed %s out everywhere else: %s ended.", u.Email, countSessions(ended, "session", "sessions"))
		default:
			summary = fmt.Sprintf("Signed %s out everywhere: %s ended.", u.Email, countSessions(ended, "session", "sessions"))
		}
		return audit(ctx, tx, change{PageID: DefaultPageID, Action: "user.sessions_end", ObjectType: AuditUser,
			ObjectID: idString(userID), Summary: summary})
	})
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return ended, nil
}

func countSessions(n int64, one, many string) string {
	switch n {
	case 0:
		return "no " + many
	case 1:
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// seeSession records that a session was used at now, at most once per
// sessionSeenResolution: a conditional update, so of concurrent requests
// (or replicas) only one writes.
func (s *Store) seeSession(ctx context.Context, id string, lastSeen *time.Time) error {
	now := s.Now()
	if lastSeen != nil && now.Sub(*lastSeen) < sessionSeenResolution {
		return nil
	}
	err := s.conn(ctx).Model(&Session{}).
		Where("id = ? AND (last_seen_at IS NULL OR last_seen_at <= ?)", id, now.Add(-sessionSeenResolution)).
		Update("last_seen_at", now).Error
	if err != nil {
		return fmt.Errorf("record use of session: %w", err)
	}
	return nil
}
