package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/models/modelstest"
)

// TestPageAccessSettings: a page's access settings are validated with a
// field error each, normalised, audited without the password or its
// hash, and their generation rises when a password changes or the page
// turns private again. On both engines.
func TestPageAccessSettings(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		p := modelstest.InsertPage(t, s, "staff", "Staff")
		a, err := s.PageAccess(ctx, p.ID)
		modelstest.Fatal(t, err, "access of a new page")
		if !a.Public || a.HasPassword() || a.Team || len(a.IPAllowlist) != 0 || a.Generation != 1 {
			t.Fatalf("a new page's access = %+v, want public without ways in, generation 1", a)
		}

		bad := []struct {
			in    models.PageAccessInput
			field string
			want  string
		}{
			{models.PageAccessInput{}, "public", "needs a way in"},
			{models.PageAccessInput{EmailDomains: []string{"example.com"}}, "public", "needs a way in"}, // no e-mail links
			{models.PageAccessInput{Password: "short"}, "password", "at least 8"},
			{models.PageAccessInput{Password: strings.Repeat("p", 73)}, "password", "at most 72"},
			{models.PageAccessInput{Password: " padded password "}, "password", "spaces"},
			{models.PageAccessInput{Password: "nul\x00password"}, "password", "U+0000"},
			{models.PageAccessInput{Team: true, IPAllowlist: []string{"10.0.0.0/33"}}, "ip_allowlist", "not an IP range"},
			{models.PageAccessInput{Team: true, IPAllowlist: []string{"10.0.0.1/8"}}, "ip_allowlist", "did you mean 10.0.0.0/8"},
			{models.PageAccessInput{Team: true, IPAllowlist: []string{"<script>alert(1)</script>"}}, "ip_allowlist", "not an IP"},
			{models.PageAccessInput{Team: true, IPAllowlist: []string{"fe80::1%eth0"}}, "ip_allowlist", "not an IP address"},
			{models.PageAccessInput{Team: true, IPAllowlist: []string{strings.Repeat("1", 100)}}, "ip_allowlist", "not an IP range"},
			{models.PageAccessInput{Team: true, IPAllowlist: []string{"\xff\xfe"}}, "ip_allowlist", "UTF-8"},
			{models.PageAccessInput{Team: true, EmailDomains: []string{"<b>x</b>.com"}}, "email_domains", "not an e-mail domain"},
			{models.PageAccessInput{Team: true, EmailDomains: []string{"localhost"}}, "email_domains", "not an e-mail domain"},
			{models.PageAccessInput{Team: true, EmailDomains: []string{strings.Repeat("a", 300) + ".com"}}, "email_domains", "at most 253"},
			{models.PageAccessInput{Team: true, EmailDomains: []string{strings.Repeat("d.com ", 0) + manyDomains(51)}}, "email_domains", "at most 50"},
		}
		for _, tc := range bad {
			_, err := s.SetPageAccess(ctx, p.ID, tc.in)
			var ve *models.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Fields[tc.field], tc.want) {
				t.Errorf("SetPageAccess(%+v) = %v, want %q under %s", tc.in, err, tc.want, tc.field)
			}
		}
		if a2, _ := s.PageAccess(ctx, p.ID); !a2.Public || a2.Generation != 1 {
			t.Fatalf("refused changes changed the page's access: %+v", a2)
		}

		a, err = s.SetPageAccess(ctx, p.ID, models.PageAccessInput{Password: "first door password", Team: true,
			EmailDomains: []string{"Example.COM, @corp.example", "example.com"}, IPAllowlist: []string{"203.0.113.7", "2001:db8::/32", "::ffff:192.0.2.0/120"}})
		modelstest.Fatal(t, err, "make private")
		if a.Public || !a.HasPassword() || !a.Team || a.Generation != 2 ||
			strings.Join(a.EmailDomains, " ") != "corp.example example.com" || len(a.IPAllowlist) != 3 {
			t.Fatalf("private access = %+v", a)
		}
		for ip, want := range map[string]bool{"203.0.113.7": true, "203.0.113.8": false, "2001:db8::5": true, "192.0.2.9": true, "::ffff:192.0.2.9": true, "junk": false} {
			if a.AllowsIP(ip) != want {
				t.Errorf("AllowsIP(%s) = %v, want %v", ip, !want, want)
			}
		}
		if !a.CheckPassword("first door password") || a.CheckPassword("first door passwor") || a.CheckPassword("") {
			t.Error("CheckPassword accepts the wrong password or refuses the right one")
		}
		if !a.AllowsEmail("Ann@EXAMPLE.com") || a.AllowsEmail("ann@example.com.evil") || a.AllowsEmail("nobody") {
			t.Error("AllowsEmail matches the wrong domains")
		}
		hash := a.PasswordHash
		// The same settings again: visitors stay signed in.
		a, err = s.SetPageAccess(ctx, p.ID, models.PageAccessInput{Team: true, EmailDomains: []string{"corp.example example.com"}, IPAllowlist: []string{"203.0.113.7/32"}})
		modelstest.Fatal(t, err, "keep the password")
		if a.Generation != 2 || a.PasswordHash != hash {
			t.Errorf("keeping the password: generation %d, hash kept %v", a.Generation, a.PasswordHash == hash)
		}
		a, err = s.SetPageAccess(ctx, p.ID, models.PageAccessInput{Password: "second door password", Team: true, EmailDomains: []string{"corp.example example.com"}})
		modelstest.Fatal(t, err, "new password")
		if a.Generation != 3 || a.CheckPassword("first door password") || !a.CheckPassword("second door password") {
			t.Errorf("new password: %+v", a)
		}
		a, err = s.SetPageAccess(ctx, p.ID, models.PageAccessInput{Public: true, Team: true, EmailDomains: []string{"corp.example example.com"}})
		modelstest.Fatal(t, err, "public")
		if a.Generation != 3 || !a.HasPassword() {
			t.Errorf("made public: %+v (the password stays for later)", a)
		}
		a, err = s.SetPageAccess(ctx, p.ID, models.PageAccessInput{Team: true, EmailDomains: []string{"corp.example example.com"}})
		modelstest.Fatal(t, err, "private again")
		if a.Generation != 4 {
			t.Errorf("private again: generation %d, want 4", a.Generation)
		}
		a, err = s.SetPageAccess(ctx, p.ID, models.PageAccessInput{Team: true, RemovePassword: true, EmailDomains: []string{"corp.example example.com"}})
		modelstest.Fatal(t, err, "remove the password")
		if a.HasPassword() || a.Generation != 5 {
			t.Errorf("removed password: %+v", a)
		}
		all, err := s.PagesAccess(ctx)
		modelstest.Fatal(t, err, "every page's access")
		if len(all) != 2 || !all[models.DefaultPageID].Public || all[p.ID].Public {
			t.Errorf("PagesAccess = %+v", all)
		}

		rows, err := s.AuditEntries(ctx, models.AuditFilter{Action: "page.access"})
		modelstest.Fatal(t, err, "audit")
		slices.Reverse(rows) // oldest first
		if len(rows) != 6 {
			t.Fatalf("%d page.access rows, want 6", len(rows))
		}
		for _, r := range rows {
			for _, secret := range []string{"door password", hash, "$2a$"} {
				if strings.Contains(r.Before+r.After, secret) {
					t.Errorf("audit row holds %q: %+v", secret, r)
				}
			}
		}
		if !strings.Contains(rows[0].After, `"has_password":true`) || !strings.Contains(rows[0].After, `"ip_allowlist":["203.0.113.7/32"`) {
			t.Errorf("first audit row's after = %s", rows[0].After)
		}
	})
}

func manyDomains(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("d")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString(".com ")
	}
	return b.String()
}

// TestPageFeedTokens: a feed token opens its own page only, until it is
// revoked (at once: the database is asked every time); only its hash is
// stored; its use is noted. On both engines.
func TestPageFeedTokens(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		p := modelstest.InsertPage(t, s, "staff", "Staff")
		plain, tok, err := s.CreatePageFeedToken(ctx, p.ID, "password\x00 sign-in")
		modelstest.Fatal(t, err, "create")
		if !strings.HasPrefix(plain, models.PageFeedTokenPrefix) || tok.TokenHash == plain || strings.Contains(tok.TokenHash, plain) {
			t.Fatalf("token %q stored as %q", plain, tok.TokenHash)
		}
		modelstest.Fatal(t, s.CheckPageFeedToken(ctx, p.ID, plain), "check on its page")
		for name, check := range map[string]error{
			"another page":     s.CheckPageFeedToken(ctx, models.DefaultPageID, plain),
			"a changed token":  s.CheckPageFeedToken(ctx, p.ID, plain+"x"),
			"no prefix":        s.CheckPageFeedToken(ctx, p.ID, strings.TrimPrefix(plain, models.PageFeedTokenPrefix)),
			"empty":            s.CheckPageFeedToken(ctx, p.ID, ""),
			"an oversized one": s.CheckPageFeedToken(ctx, p.ID, models.PageFeedTokenPrefix+strings.Repeat("a", 5000)),
		} {
			if !errors.Is(check, models.ErrFeedToken) {
				t.Errorf("%s: %v, want ErrFeedToken", name, check)
			}
		}
		list, err := s.PageFeedTokens(ctx, p.ID)
		modelstest.Fatal(t, err, "list")
		if len(list) != 1 || list[0].LastUsedAt == nil || list[0].Revoked() || list[0].Label != "password sign-in" {
			t.Fatalf("list = %+v", list)
		}
		if err := s.RevokePageFeedToken(ctx, models.DefaultPageID, tok.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("revoke through another page: %v, want not found", err)
		}
		modelstest.Fatal(t, s.RevokePageFeedToken(ctx, p.ID, tok.ID), "revoke")
		if err := s.CheckPageFeedToken(ctx, p.ID, plain); !errors.Is(err, models.ErrFeedToken) {
			t.Errorf("revoked token: %v, want ErrFeedToken", err)
		}
		modelstest.Fatal(t, s.RevokePageFeedToken(ctx, p.ID, tok.ID), "revoke twice")
	})
}

// TestAccessChangeRevokesFeedTokens: what signs every visitor out (a new
// password here) revokes the feed links they made, on that page only,
// and says so in the audit log; a change that signs nobody out (the IP
// allowlist) leaves them. On both engines.
func TestAccessChangeRevokesFeedTokens(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		staff := modelstest.InsertPage(t, s, "staff", "Staff")
		ops := modelstest.InsertPage(t, s, "ops", "Ops")
		for _, id := range []int64{staff.ID, ops.ID} {
			_, err := s.SetPageAccess(ctx, id, models.PageAccessInput{Password: "first door password"})
			modelstest.Fatal(t, err, "private page %d", id)
		}
		staffToken, _, err := s.CreatePageFeedToken(ctx, staff.ID, "cookie")
		modelstest.Fatal(t, err, "staff token")
		opsToken, _, err := s.CreatePageFeedToken(ctx, ops.ID, "cookie")
		modelstest.Fatal(t, err, "ops token")

		_, err = s.SetPageAccess(ctx, staff.ID, models.PageAccessInput{IPAllowlist: []string{"192.0.2.0/24"}})
		modelstest.Fatal(t, err, "allowlist")
		modelstest.Fatal(t, s.CheckPageFeedToken(ctx, staff.ID, staffToken), "the token after an allowlist change")

		_, err = s.SetPageAccess(ctx, staff.ID, models.PageAccessInput{Password: "second door password", IPAllowlist: []string{"192.0.2.0/24"}})
		modelstest.Fatal(t, err, "new password")
		if err := s.CheckPageFeedToken(ctx, staff.ID, staffToken); !errors.Is(err, models.ErrFeedToken) {
			t.Errorf("the token after a new password: %v, want ErrFeedToken", err)
		}
		modelstest.Fatal(t, s.CheckPageFeedToken(ctx, ops.ID, opsToken), "another page's token")
		entries, err := s.AuditEntries(ctx, models.AuditFilter{PageID: staff.ID, Action: "page.access", Limit: 1})
		modelstest.Fatal(t, err, "audit")
		if len(entries) != 1 || !strings.Contains(entries[0].Summary, "Revoked 1 visitor feed link.") {
			t.Errorf("audit = %+v", entries)
		}
	})
}

// TestPageAccessLinks: an e-mailed sign-in link works once, within 15
// minutes, on its own page only. On both engines.
func TestPageAccessLinks(t *testing.T) {
	for _, e := range modelstest.Engines {
		t.Run(string(e), func(t *testing.T) {
			clock := modelstest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			s := modelstest.OpenWith(t, e, models.Options{Now: clock.Now})
			ctx := context.Background()
			p := modelstest.InsertPage(t, s, "staff", "Staff")
			token, err := s.CreatePageAccessLink(ctx, p.ID, "ann@example.com")
			modelstest.Fatal(t, err, "create")
			if !strings.HasPrefix(token, models.PageAccessLinkPrefix) {
				t.Fatalf("token %q", token)
			}
			if err := s.CheckPageAccessLink(ctx, models.DefaultPageID, token); !errors.Is(err, models.ErrAccessLink) {
				t.Errorf("on another page: %v", err)
			}
			if _, err := s.UsePageAccessLink(ctx, models.DefaultPageID, token); !errors.Is(err, models.ErrAccessLink) {
				t.Errorf("used on another page: %v", err)
			}
			modelstest.Fatal(t, s.CheckPageAccessLink(ctx, p.ID, token), "check (twice: checking uses nothing up)")
			modelstest.Fatal(t, s.CheckPageAccessLink(ctx, p.ID, token), "check again")
			email, err := s.UsePageAccessLink(ctx, p.ID, token)
			if err != nil || email != "ann@example.com" {
				t.Fatalf("use = %q, %v", email, err)
			}
			if _, err := s.UsePageAccessLink(ctx, p.ID, token); !errors.Is(err, models.ErrAccessLink) {
				t.Errorf("second use: %v, want ErrAccessLink", err)
			}
			late, err := s.CreatePageAccessLink(ctx, p.ID, "bob@example.com")
			modelstest.Fatal(t, err, "create")
			clock.Set(clock.Now().Add(models.PageAccessLinkTTL + time.Second))
			if _, err := s.UsePageAccessLink(ctx, p.ID, late); !errors.Is(err, models.ErrAccessLink) {
				t.Errorf("after 15 minutes: %v, want ErrAccessLink", err)
			}
			if _, err := s.UsePageAccessLink(ctx, p.ID, "hal_"+strings.Repeat("x", 500)); !errors.Is(err, models.ErrAccessLink) {
				t.Errorf("oversized: %v", err)
			}
		})
	}
}
