package markdown_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/markdown"
)

var (
	eventHandler = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	badURL       = regexp.MustCompile(`(?i)(href|src)\s*=\s*"?\s*(javascript|vbscript|data):`)
)

func TestRenderRemovesEverythingExecutable(t *testing.T) {
	r := markdown.New()
	cases := []struct {
		name string
		src  string
		keep string // text that should survive, if any
	}{
		{"script element", "<script>alert(1)</script>", ""},
		{"script inside a paragraph", "Hello <script>alert(1)</script> world", "Hello"},
		{"img with onerror", "<img src=x onerror=alert(1)>", ""},
		{"event handler on a div", `<div onclick="alert(1)" onmouseover="alert(2)">hi</div>`, ""},
		{"svg onload", `<svg onload=alert(1)></svg>`, ""},
		{"iframe", `<iframe src="https://evil.example"></iframe>`, ""},
		{"style attribute", `<p style="background:url(javascript:alert(1))">x</p>`, ""},
		{"javascript link", "[x](javascript:alert(1))", "x"},
		{"mixed-case javascript link", "[x](JaVaScRiPt:alert(1))", "x"},
		{"entity-encoded javascript link", "[x](&#106;avascript:alert(1))", "x"},
		{"javascript image", "![pic](javascript:alert(1))", ""},
		{"javascript autolink", "<javascript:alert(1)>", ""},
		{"vbscript link", "[x](vbscript:msgbox(1))", "x"},
		{"data link in html", `<a href="data:text/html,<script>alert(1)</script>">d</a>`, ""},
		{"data link in markdown", "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "d"},
		{"reference-style javascript link", "[x][r]\n\n[r]: javascript:alert(1)", "x"},
		{"link title breaking out", `[x](https://example.com "a\" onmouseover=\"alert(1)")`, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := r.Render(tc.src)
			lower := strings.ToLower(out)
			for _, bad := range []string{"<script", "<iframe", "<svg", "<div", "style="} {
				if strings.Contains(lower, bad) {
					t.Errorf("Render(%q) = %q: contains %q", tc.src, out, bad)
				}
			}
			if m := eventHandler.FindString(out); m != "" {
				t.Errorf("Render(%q) = %q: event handler attribute %q", tc.src, out, m)
			}
			if m := badURL.FindString(out); m != "" {
				t.Errorf("Render(%q) = %q: dangerous URL %q", tc.src, out, m)
			}
			if tc.keep != "" && !strings.Contains(out, tc.keep) {
				t.Errorf("Render(%q) = %q: lost the text %q", tc.src, out, tc.keep)
			}
		})
	}
}

func TestRenderKeepsOrdinaryMarkdown(t *testing.T) {
	r := markdown.New()
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{"bold and italics", "**bold** and _italic_", []string{"<strong>bold</strong>", "<em>italic</em>"}},
		{"inline code escapes html", "Run `a <b> c`", []string{"<code>a &lt;b&gt; c</code>"}},
		{"fenced code", "```\nx := 1 < 2\n```", []string{"<pre><code>x := 1 &lt; 2"}},
		{"bullet list", "- one\n- two", []string{"<ul>", "<li>one</li>", "<li>two</li>"}},
		{"ordered list", "1. first\n2. second", []string{"<ol>", "<li>first</li>"}},
		{"https link gets nofollow", "[status](https://example.com/a?b=c)", []string{`href="https://example.com/a?b=c"`, `rel="nofollow"`, ">status</a>"}},
		{"mailto link", "[mail us](mailto:ops@example.com)", []string{`href="mailto:ops@example.com"`}},
		{"relative link", "[history](/history)", []string{`href="/history"`}},
		{"autolink", "See https://example.com/x for details", []string{`href="https://example.com/x"`}},
		{"strikethrough", "~~wrong~~", []string{"<del>wrong</del>"}},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<th>a</th>", "<td>2</td>"}},
		{"task list", "- [x] done\n- [ ] todo", []string{`<input checked="" disabled="" type="checkbox"`, `<input disabled="" type="checkbox"`}},
		{"text with angle brackets", "latency < 5 ms & > 1 ms", []string{"latency &lt; 5 ms &amp; &gt; 1 ms"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := r.Render(tc.src)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tc.src, out, w)
				}
			}
		})
	}
	if got := r.Render("  \n "); got != "" {
		t.Errorf("blank source rendered %q, want empty", got)
	}
}

func TestPlainDropsSyntaxAndUnsafeLinks(t *testing.T) {
	r := markdown.New()
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"emphasis", "**API** is _slow_", "API is slow"},
		{"paragraphs", "one\ntwo\n\nthree", "one two\n\nthree"},
		{"lists", "Affected:\n\n- API\n- Website\n\n1. a\n2. b", "Affected:\n\n- API\n- Website\n\n1. a\n2. b"},
		{"link shows its address", "[docs](https://example.com/docs)", "docs (https://example.com/docs)"},
		{"javascript link shows only its text", "[x](javascript:alert(1))", "x"},
		{"raw html dropped", "a <script>alert(1)</script> b", "a alert(1) b"},
		{"code block kept", "```\nline 1\nline 2\n```", "line 1\nline 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Plain(tc.src); got != tc.want {
				t.Errorf("Plain(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestRendererIsSafeForConcurrentUse(t *testing.T) {
	r := markdown.New()
	done := make(chan string)
	for range 8 {
		go func() { done <- r.Render("**hi** <script>x</script> [a](https://example.com)") }()
	}
	for range 8 {
		if out := <-done; strings.Contains(out, "<script") || !strings.Contains(out, "<strong>hi</strong>") {
			t.Errorf("concurrent render gave %q", out)
		}
	}
}
