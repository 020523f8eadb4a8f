package notify

import (
	"context"
	"fmt"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SendNotice sends one e-mail at once, on a connection of its
// own: a message someone waits for that belongs to no subscriber (a
// private page's sign-in link). It is not queued nor retried: the person
// asks again. to must be a checked address; subject, text and html (the
// same message, as HTML) are Herald's own. kind names the notice in its
// X-Herald-Notice header, which also tells it from subscribers' e-mails.
func SendNotice(ctx context.Context, cfg *SMTPConfig, timeout time.Duration, kind, to, subject, text, html string) error {
	server, err := parseSMTPURL(cfg.URL)
	if err != nil {
		return fmt.Errorf("smtp url: %w", err)
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return fmt.Errorf("smtp from: %w", err)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(&mail.Address{Name: headerText(from.Name), Address: from.Address})
	if err := msg.To(to); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(headerText(subject))
	msg.SetMessageID()
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Herald-Notice", headerText(kind))
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	c := &mailConn{server: server, tls: cfg.TLS, timeout: timeout}
	defer c.close()
	if _, err := c.send(ctx, msg); err != nil {
		return fmt.Errorf("send to %s: %w", server.host, err)
	}
	return nil
}
