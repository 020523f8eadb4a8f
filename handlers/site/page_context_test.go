package site

import "testing"

func TestPrefixLinks(t *testing.T) {
	in := `<link rel="icon" href="/favicon.svg"><link href="/static/css/herald.css"><a href="/">x</a>` +
		`<a href="//cdn.example/x">c</a><a href="https://example.com/">e</a><img src="/static/i.png"><img src="/uploads/a.png">` +
		`<form method="post" action="/subscribe"></form><a data-href="/no">n</a><a href="/subscriptions/tok">p</a><a href="/admin">a</a><a href="/history?page=2">h</a>`
	want := `<link rel="icon" href="/s/eu/favicon.svg"><link href="/static/css/herald.css"><a href="/s/eu/">x</a>` +
		`<a href="//cdn.example/x">c</a><a href="https://example.com/">e</a><img src="/static/i.png"><img src="/s/eu/uploads/a.png">` +
		`<form method="post" action="/s/eu/subscribe"></form><a data-href="/no">n</a><a href="/subscriptions/tok">p</a><a href="/admin">a</a><a href="/s/eu/history?page=2">h</a>`
	if got := string(prefixLinks([]byte(in), "/s/eu")); got != want {
		t.Errorf("prefixLinks:\n got %s\nwant %s", got, want)
	}
	if got := string(prefixLinks([]byte(in), "")); got != in {
		t.Errorf("prefixLinks without a prefix changed the page: %s", got)
	}
}
