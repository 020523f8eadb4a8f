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

// Upload sets the file an <input type="file"> sends: path on this machine.
func (p *Page) Upload(sel, path string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path})); err != nil {
		p.t.Fatalf("choose file %s for %s on %s: %v", path, sel, p.Path(), err)
	}
}

// Fetch loads path from the page's origin with its cookies, as a
// download would, and returns the body's text.
func (p *Page) Fetch(path string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`fetch(`+jsString(path)+`, {credentials: "same-origin"}).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("fetch %s: %v", path, err)
	}
	return v
}
