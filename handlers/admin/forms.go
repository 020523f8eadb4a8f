package admin

import (
	"errors"
	"fmt"

	"github.com/heraldstatus/herald/models"
	"github.com/labstack/echo/v4"
)

// formNotify reads the "Notify channels" checkbox. The form posts a hidden
// notify=0 before the box, so the last value is the admin's choice; a
// client that sends no notify at all gets the default, notifying.
func formNotify(c echo.Context) bool {
	return formBox(c, "notify", true)
}

// formNotifySubscribers reads the "Notify subscribers" checkbox, posted
// as notify is. A client that sends no notify_subscribers gets what it
// chose for channels (notify), so an older form or script that unticks
// "Notify channels" stays silent.
func formNotifySubscribers(c echo.Context, notify bool) bool {
	return formBox(c, "notify_subscribers", notify)
}

// formBox is the last value of a checkbox preceded by a hidden "0", or
// def when the form has no such field.
func formBox(c echo.Context, name string, def bool) bool {
	form, err := c.FormParams()
	if err != nil {
		return def
	}
	values := form[name]
	if len(values) == 0 {
		return def
	}
	return values[len(values)-1] == "1"
}

// notifiedSentence ends a flash: how many channels heard of the change.
func notifiedSentence(n int) string {
	switch n {
	case 0:
		return "No channels notified."
	case 1:
		return "1 channel notified."
	default:
		return fmt.Sprintf("%d channels notified.", n)
	}
}

// previewing reports whether the form was posted with its Preview button
// for field: render it again, save nothing.
func previewing(c echo.Context, field string) bool {
	return c.FormValue("preview") == field
}

// renderPreview renders text as the status page would, through the same
// renderer and sanitiser. Text that saving would refuse (NUL, bytes that
// are not UTF-8, too long) is a field error instead.
func (h *Handler) renderPreview(field, text string) (string, map[string]string) {
	if err := models.CheckMarkdown(field, text); err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			return "", ve.Fields
		}
		return "", map[string]string{field: "This text cannot be previewed."}
	}
	return h.Markdown.Render(text), nil
}
