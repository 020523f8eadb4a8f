package models

// Signal is a level-triggered wake-up: any number of Notify calls before
// the receiver looks coalesce into one.
type Signal struct {
	ch chan struct{}
}

// NewSignal returns an unsignalled Signal.
func NewSignal() *Signal { return &Signal{ch: make(chan struct{}, 1)} }

// Notify marks the signal; it never blocks.
func (s *Signal) Notify() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// C receives once per burst of Notify calls.
func (s *Signal) C() <-chan struct{} { return s.ch }
