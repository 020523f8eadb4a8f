package notify

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/models"
)

// attempt is attemptUnredacted with the channel's URL credentials
// masked (models.RedactURL) in everything the attempt logs besides the
// request URL, which is masked already: the error (net/http and TLS
// errors may quote the URL), the reason and the receiver's answer (a
// redirect's Location, an error page echoing the path). The attempt row,
// the slog lines made from it and the channel's disabled reason come
// from here.
func (s *Sender) attempt(ctx context.Context, c *models.Channel, page *models.Page, d *models.Delivery, ev models.Event, number int, now time.Time) (models.DeliveryAttempt, Verdict) {
	a, v := s.attemptUnredacted(ctx, c, page, d, ev, number, now)
	redact := func(text string) string { return models.RedactURL(c.Type, c.URL, text) }
	a.Error = redact(a.Error)
	a.ResponseHeaders = redact(a.ResponseHeaders)
	a.ResponseBody = redact(a.ResponseBody)
	v.Reason = redact(v.Reason)
	v.Disable = redact(v.Disable)
	return a, v
}
