package models

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Ids sort in the order they were made, whatever times they were made
// for: an id for an earlier millisecond in between must not let the next
// id of a later millisecond sort before an earlier one of it.
func TestIDsSortInTheOrderMade(t *testing.T) {
	var g idSource
	base := time.Now()
	var made []string
	for i := range 2000 {
		at := base.Add(time.Duration(i%3) * time.Millisecond) // 0, 1, 2, 0, 1, 2 …
		if i%7 == 0 {
			at = base.Add(-time.Second) // an older event's delivery
		}
		made = append(made, g.next(at).String())
	}
	if !slices.IsSorted(made) {
		t.Fatal("ids do not sort in the order they were made")
	}

	// Concurrent callers get distinct ids.
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				id := g.next(time.Now()).String()
				mu.Lock()
				if seen[id] {
					t.Errorf("id %s made twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
