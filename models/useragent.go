package models

import "strings"

// Browser names the browser and system of a User-Agent in plain words,
// such as "Firefox on Linux", for the list of someone's sessions. It
// knows the common browsers only; anything else is "Unknown browser",
// with the system when that is known.
func Browser(userAgent string) string {
	ua := strings.ToLower(userAgent)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(ua, w) {
				return true
			}
		}
		return false
	}
	// Order matters: Edge and Opera say Chrome too, Chrome says Safari.
	browser := "Unknown browser"
	switch {
	case has("edg/", "edga/", "edgios/"):
		browser = "Edge"
	case has("opr/", "opera"):
		browser = "Opera"
	case has("firefox/", "fxios/"):
		browser = "Firefox"
	case has("headlesschrome/"):
		browser = "Headless Chrome"
	case has("chrome/", "crios/", "chromium/"):
		browser = "Chrome"
	case has("safari/") && has("version/"):
		browser = "Safari"
	case strings.HasPrefix(ua, "curl/"):
		return "curl"
	case strings.HasPrefix(ua, "go-http-client/"):
		return "a Go program"
	}
	system := ""
	switch {
	case has("iphone"):
		system = "iPhone"
	case has("ipad"):
		system = "iPad"
	case has("android"):
		system = "Android"
	case has("windows"):
		system = "Windows"
	case has("cros"):
		system = "ChromeOS"
	case has("macintosh", "mac os x"):
		system = "macOS"
	case has("linux"):
		system = "Linux"
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
