// Package notify delivers events to notification channels: signed custom
// webhooks, Slack and Discord (SPEC §5).
//
// Deliveries are rows in the database, written in the same transaction as
// their event. An Engine claims due deliveries through the database (so
// several Herald processes never make the same attempt twice), sends them
// under the egress Policy, logs every attempt and schedules retries. The
// formatting of Slack and Discord messages and the meaning of receivers'
// answers live beside it, free of I/O.
//
// With SMTP configured, the Engine also e-mails a page's subscribers: it
// expands each event into one subscriber delivery per matching subscriber
// (models.FanOutSubscribers, exactly once across processes) and sends them
// over one reused SMTP connection (mail.go, mail_engine.go), the messages
// built in mail_message.go.
package notify
