package browsertest

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Page is a browser tab on one Herald server. Its steps wait for the
// elements they use and fail the test on error. Selectors are CSS.
type Page struct {
	t    testing.TB
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string // console errors and uncaught exceptions
}

// Open starts a browser for a Herald served at baseURL.
func Open(t testing.TB, baseURL string) *Page {
	t.Helper()
	p := &Page{t: t, ctx: New(t), base: baseURL}
	p.watchConsole()
	return p
}

func (p *Page) watchConsole() {
	// Subscribe before any page loads, read in the background: the
	// iterator ends when the tab's context does.
	messages := chromedp.Console(p.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Source "network" entries are failed loads, such as the
			// 422 of a form shown again with its errors: expected.
			if m.IsException() || (m.Type == chromedp.ConsoleType("error") && m.Source != "network") {
				p.mu.Lock()
				p.problems = append(p.problems, m.String())
				p.mu.Unlock()
			}
		}
	}()
}

// ConsoleProblems lists the errors the pages' scripts reported so far.
func (p *Page) ConsoleProblems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Go loads path and returns the status of the final document.
func (p *Page) Go(path string) int64 {
	p.t.Helper()
	res, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(p.base+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return res.Status
}

// Click clicks the element and waits for the page it leads to, returning
// that document's status. Use it for links and submit buttons.
func (p *Page) Click(sel string) int64 {
	p.t.Helper()
	res, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("click %s on %s: %v", sel, p.Path(), err)
	}
	return res.Status
}

// Fill replaces the value of an input by typing.
func (p *Page) Fill(sel, value string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx,
		chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value, chromedp.NodeVisible),
	); err != nil {
		p.t.Fatalf("fill %s on %s: %v", sel, p.Path(), err)
	}
}

// Choose selects the option of a select whose visible label is label.
func (p *Page) Choose(sel, label string) {
	p.t.Helper()
	value := Eval[string](p, `(() => {
		const o = [...document.querySelector(`+jsString(sel)+`).options].find(o => o.text.trim() === `+jsString(label)+`);
		return o ? o.value : null;
	})()`)
	if err := chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		p.t.Fatalf("choose %q in %s: %v", label, sel, err)
	}
}

// Text is the visible text of the element, once it is present.
func (p *Page) Text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s on %s: %v", sel, p.Path(), err)
	}
	return s
}

// WaitVisible waits until the element is shown.
func (p *Page) WaitVisible(sel string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		p.t.Fatalf("wait for %s: %v", sel, err)
	}
}

// Path is the path and query of the current document.
func (p *Page) Path() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		p.t.Fatalf("parse location %q: %v", loc, err)
	}
	return u.RequestURI()
}

// Eval runs a JavaScript expression in the page and decodes its value.
func Eval[T any](p *Page, expression string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// Emulate sets the viewport width (height 800, a phone-like mobile viewport
// below 768px) and the prefers-color-scheme the pages see: "light" or
// "dark".
func (p *Page) Emulate(width int64, scheme string) {
	p.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if width < 768 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	err := chromedp.Do(p.ctx,
		chromedp.EmulateViewport(width, 800, opts...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	)
	if err != nil {
		p.t.Fatalf("emulate %dpx %s: %v", width, scheme, err)
	}
}

// Screenshot is a PNG of the whole page, not only the viewport.
func (p *Page) Screenshot() []byte {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		yes := true
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: &yes,
			FromSurface:           &yes,
			Clip: &page.Viewport{
				Width:  math.Ceil(m.CSSContentSize.Width),
				Height: math.Ceil(m.CSSContentSize.Height),
				Scale:  1,
			},
		})
		return res.Data, err
	}))
	if err != nil {
		p.t.Fatalf("screenshot of %s: %v", p.Path(), err)
	}
	return png
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// SetLocale makes the page's Intl default locale locale, such as "en-US"
// or "en-GB", as a visitor's browser set to it would.
func (p *Page) SetLocale(locale string) {
	p.t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: locale})
		return err
	}))
	if err != nil {
		p.t.Fatalf("set locale %s: %v", locale, err)
	}
}
