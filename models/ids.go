package models

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ids makes the ULIDs of events and deliveries.
//
// It is process-wide on purpose: ids sort in the order this process made
// them, which is the order of events a channel's backlog is sent in. A
// ULID carries a millisecond and a random part; with ulid.DefaultEntropy
// the random part only increases while the millisecond stays the same, so
// an id made for another millisecond in between (a delivery of an earlier
// event, a test send) restarted it and two events of one millisecond
// could sort in the wrong order.
var ids idSource

type idSource struct {
	mu      sync.Mutex
	last    uint64 // the millisecond of the last id
	entropy *ulid.MonotonicEntropy
}

// next returns an id for a thing that happened at at: its millisecond is
// at's, or the last id's when that is later, and it sorts after every id
// made before it in this process.
func (g *idSource) next(at time.Time) ulid.ULID {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.entropy == nil {
		g.entropy = ulid.Monotonic(rand.Reader, 0)
	}
	ms := max(ulid.Timestamp(at), g.last)
	id, err := ulid.New(ms, g.entropy)
	if err != nil { // the random part ran out within this millisecond
		ms++
		id = ulid.MustNew(ms, g.entropy)
	}
	g.last = ms
	return id
}
