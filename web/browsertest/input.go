package browsertest

import "github.com/chromedp/chromedp"

// Check clicks an element that does not navigate, such as a radio button or
// a checkbox.
func (p *Page) Check(sel string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("click %s on %s: %v", sel, p.Path(), err)
	}
}

// Type types value at the end of a field's text. Use it where Fill cannot
// clear the field first, such as an empty textarea.
func (p *Page) Type(sel, value string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS(sel), value, chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("type into %s on %s: %v", sel, p.Path(), err)
	}
}

// PressEnter presses Enter in a field and waits for the page it leads to
// (a form's implicit submission), returning that document's status.
func (p *Page) PressEnter(sel string) int64 {
	p.t.Helper()
	res, err := chromedp.RunResponse(p.ctx, chromedp.SendKeys(chromedp.CSS(sel), "\r", chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("press Enter in %s on %s: %v", sel, p.Path(), err)
	}
	return res.Status
}
