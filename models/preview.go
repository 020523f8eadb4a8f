package models

// CheckMarkdown gives Markdown about to be previewed the checks a message
// gets when it is saved (text that every engine stores alike, length), so
// a preview refuses what saving would; field names the form's field.
func CheckMarkdown(field, text string) error {
	var v Validator
	if msg := textProblem(text, true); msg != "" {
		v.Add(field, msg)
		return v.Err()
	}
	checkText(&v, field, text, false, MaxMessageLength)
	return v.Err()
}
