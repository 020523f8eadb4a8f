package models

import (
	"context"

	"gorm.io/gorm"
)

// Notified records the enabled channels that the events of one change were
// queued for, so the admin can be told "3 channels notified." Build one
// with CountNotified; read it once the change has returned without error.
type Notified struct {
	channels map[int64]bool
}

// Channels is how many distinct enabled channels the change's events
// reach; 0 when nothing was announced or no channel wants the events.
func (n *Notified) Channels() int {
	if n == nil {
		return 0
	}
	return len(n.channels)
}

type notifiedKey struct{}

// CountNotified returns a context whose store calls record, in the
// returned Notified, every enabled channel their events are delivered to.
// A disabled channel's skipped delivery does not count: no one hears of it.
func CountNotified(ctx context.Context) (context.Context, *Notified) {
	n := &Notified{channels: map[int64]bool{}}
	return context.WithValue(ctx, notifiedKey{}, n), n
}

// recordNotified adds channel ids to the Notified of tx's context, if any.
func recordNotified(tx *gorm.DB, channelIDs []int64) {
	if tx.Statement == nil || tx.Statement.Context == nil {
		return
	}
	n, ok := tx.Statement.Context.Value(notifiedKey{}).(*Notified)
	if !ok {
		return
	}
	for _, id := range channelIDs {
		n.channels[id] = true
	}
}

type silentKey struct{}

// silenced returns tx marked so that addEvent writes no event on it: the
// change is saved and shown on the page, but no channel hears of it (the
// admin unticked "Notify channels"). It is the same outcome as a
// back-fill or an unannounced correction, for every event the change
// would write, component.status_changed included.
func silenced(tx *gorm.DB) *gorm.DB {
	return tx.WithContext(context.WithValue(tx.Statement.Context, silentKey{}, true))
}

func isSilenced(tx *gorm.DB) bool {
	return tx.Statement != nil && tx.Statement.Context != nil && tx.Statement.Context.Value(silentKey{}) != nil
}

type quietSubscribersKey struct{}

// quietSubscribers returns tx marked so that the events written on it
// reach no visitor subscription (the admin unticked "Notify
// subscribers"): queueSubscriberFanout queues nothing. With silenced as
// well, no event is written at all.
func quietSubscribers(tx *gorm.DB) *gorm.DB {
	return tx.WithContext(context.WithValue(tx.Statement.Context, quietSubscribersKey{}, true))
}

func subscribersQuiet(tx *gorm.DB) bool {
	return tx.Statement != nil && tx.Statement.Context != nil && tx.Statement.Context.Value(quietSubscribersKey{}) != nil
}

// notifyScope marks tx with what a change announces: silent when the
// admin unticked "Notify channels", quiet when they unticked "Notify
// subscribers".
func notifyScope(tx *gorm.DB, silent, quiet bool) *gorm.DB {
	if silent {
		tx = silenced(tx)
	}
	if quiet {
		tx = quietSubscribers(tx)
	}
	return tx
}

// subscribersSuffix is added to an audit summary when subscribers were
// not notified.
func subscribersSuffix(quiet bool) string {
	if quiet {
		return "; subscribers not notified"
	}
	return ""
}
