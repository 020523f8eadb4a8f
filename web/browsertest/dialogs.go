package browsertest

import (
	"sync"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// WatchDialogs records every JavaScript dialog (alert, confirm, prompt) the
// tab opens from now on and dismisses it, so a page that runs injected
// script neither blocks the test nor goes unnoticed. The returned function
// lists the dialogs seen so far as "type: message".
func (p *Page) WatchDialogs() func() []string {
	var (
		mu   sync.Mutex
		seen []string
	)
	// Subscribe now, read in the background: the iterator ends with the
	// tab's context.
	events := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, string(ev.Type)+": "+ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}
