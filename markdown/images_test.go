package markdown_test

import (
	"strings"
	"testing"

	"github.com/heraldstatus/herald/markdown"
)

const linkRel = `rel="nofollow noopener noreferrer"`

func TestImagesFromAllowedHostsOnly(t *testing.T) {
	r := markdown.New().WithImages(markdown.Images{
		Origin: "https://status.example.com",
		Hosts:  []string{"allowed.example", "*.example.net", "xn--bcher-kva.example"},
	})
	img := func(src, alt string) string { return `<img src="` + src + `" alt="` + alt + `">` }
	link := func(href, text string) string { return `<a href="` + href + `" ` + linkRel + `>` + text + `</a>` }
	cases := []struct {
		name string
		src  string
		want string // the whole output
	}{
		{"allowed host", "![chart](https://allowed.example/x.png)", "<p>" + img("https://allowed.example/x.png", "chart") + "</p>"},
		{"allowed host, upper case", "![c](HTTPS://ALLOWED.Example/x.png)", "<p>" + img("https://ALLOWED.Example/x.png", "c") + "</p>"},
		{"allowed host, port 443", "![c](https://allowed.example:443/x.png)", "<p>" + img("https://allowed.example:443/x.png", "c") + "</p>"},
		{"wildcard subdomain", "![c](https://a.b.example.net/x.png)", "<p>" + img("https://a.b.example.net/x.png", "c") + "</p>"},
		{"international host", "![c](https://Bücher.example/x.png)", "<p>" + img("https://B%C3%BCcher.example/x.png", "c") + "</p>"},
		{"relative path", "![c](/assets/x.png)", "<p>" + img("/assets/x.png", "c") + "</p>"},
		{"relative file", "![c](x.png)", "<p>" + img("x.png", "c") + "</p>"},
		{"Herald's own origin", "![c](https://status.example.com/x.png)", "<p>" + img("https://status.example.com/x.png", "c") + "</p>"},
		{"protocol-relative allowed host is made https", "![c](//allowed.example/x.png)", "<p>" + img("https://allowed.example/x.png", "c") + "</p>"},

		{"other host", "![chart](https://evil.example/x.png)", "<p>" + link("https://evil.example/x.png", "chart") + "</p>"},
		{"other host without alt shows the address", "![](https://evil.example/x.png?a=1&b=2)",
			"<p>" + link("https://evil.example/x.png?a=1&amp;b=2", "https://evil.example/x.png?a=1&amp;b=2") + "</p>"},
		{"alt markup kept in the link", "![**big** chart](https://evil.example/x.png)",
			"<p>" + link("https://evil.example/x.png", "<strong>big</strong> chart") + "</p>"},
		{"title kept", `![c](https://evil.example/x.png "Latency")`,
			`<p><a href="https://evil.example/x.png" title="Latency" ` + linkRel + `>c</a></p>`},
		{"reference image", "![c][r]\n\n[r]: https://evil.example/r.png", "<p>" + link("https://evil.example/r.png", "c") + "</p>"},
		{"protocol-relative", "![c](//evil.example/x.png)", "<p>" + link("//evil.example/x.png", "c") + "</p>"},
		{"protocol-relative, three slashes", "![c](///evil.example/x.png)", "<p>" + link("///evil.example/x.png", "c") + "</p>"},
		{"escaped slash makes it protocol-relative", `![c](/\/evil.example/x.png)`, "<p>" + link("//evil.example/x.png", "c") + "</p>"},
		{"userinfo naming the allowed host", "![c](https://allowed.example@evil.example/x.png)",
			"<p>" + link("https://allowed.example@evil.example/x.png", "c") + "</p>"},
		{"userinfo on the allowed host", "![c](https://user@allowed.example/x.png)",
			"<p>" + link("https://user@allowed.example/x.png", "c") + "</p>"},
		{"allowed host as a subdomain of another", "![c](https://allowed.example.evil.example/x.png)",
			"<p>" + link("https://allowed.example.evil.example/x.png", "c") + "</p>"},
		{"wildcard does not cover the apex", "![c](https://example.net/x.png)", "<p>" + link("https://example.net/x.png", "c") + "</p>"},
		{"suffix without a dot is another host", "![c](https://evilexample.net/x.png)", "<p>" + link("https://evilexample.net/x.png", "c") + "</p>"},
		{"http from an allowed host", "![c](http://allowed.example/x.png)", "<p>" + link("http://allowed.example/x.png", "c") + "</p>"},
		{"other port", "![c](https://allowed.example:8443/x.png)", "<p>" + link("https://allowed.example:8443/x.png", "c") + "</p>"},
		{"trailing dot", "![c](https://allowed.example./x.png)", "<p>" + link("https://allowed.example./x.png", "c") + "</p>"},
		{"Herald's host over another scheme", "![c](http://status.example.com/x.png)", "<p>" + link("http://status.example.com/x.png", "c") + "</p>"},
		{"scheme without slashes", "![c](https:evil.example/x.png)", "<p>" + link("https:evil.example/x.png", "c") + "</p>"},

		{"javascript", "![c](javascript:alert(1))", "<p>c</p>"},
		{"javascript, mixed case", "![c](JaVaScRiPt:alert(1))", "<p>c</p>"},
		{"javascript, entity-encoded", "![c](&#106;avascript:alert(1))", "<p>c</p>"},
		{"data URI", "![c](data:image/png;base64,iVBORw0KGgo=)", "<p>c</p>"},
		{"data SVG", "![c](data:image/svg+xml,<svg/onload=alert(1)>)", "<p>c</p>"},
		{"vbscript without alt", "![](vbscript:msgbox(1))", "<p></p>"},
		{"image inside a link keeps the link, loses the image", "[![c](https://evil.example/x.png)](https://example.com/)",
			`<p><a href="https://example.com/" rel="nofollow">c</a></p>`},
		{"allowed image inside a link", "[![c](https://allowed.example/x.png)](https://example.com/)",
			`<p><a href="https://example.com/" rel="nofollow">` + img("https://allowed.example/x.png", "c") + `</a></p>`},
		{"raw HTML image", `<img src="https://evil.example/x.png">`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Render(tc.src); got != tc.want {
				t.Errorf("Render(%q)\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

func TestImagesDefaultToRelativeOnly(t *testing.T) {
	r := markdown.New()
	if got, want := r.Render("![c](/x.png)"), `<p><img src="/x.png" alt="c"></p>`; got != want {
		t.Errorf("relative image: %s, want %s", got, want)
	}
	for _, src := range []string{"https://images.example.com/x.png", "http://localhost:8080/x.png"} {
		if got := r.Render("![c](" + src + ")"); strings.Contains(got, "<img") || !strings.Contains(got, `href="`+src+`"`) {
			t.Errorf("%s without allowed hosts: %s, want a link", src, got)
		}
	}
	// WithImages leaves the renderer it was made from as it was.
	allowing := r.WithImages(markdown.Images{Hosts: []string{"images.example.com"}})
	if got := allowing.Render("![c](https://images.example.com/x.png)"); !strings.Contains(got, "<img") {
		t.Errorf("allowed host: %s, want an image", got)
	}
	if got := r.Render("![c](https://images.example.com/x.png)"); strings.Contains(got, "<img") {
		t.Errorf("the original renderer now allows it: %s", got)
	}
}

func TestPlainShowsImageAltText(t *testing.T) {
	if got := markdown.New().Plain("See ![the graph](https://evil.example/x.png) now"); got != "See the graph now" {
		t.Errorf("Plain = %q", got)
	}
}
