package models

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Importing subscribers from another product: a CSV of addresses that
// were confirmed there. The first row is a header when a cell of it is
// "email" (then "components" names the components column); otherwise
// every row is data and the first column is the address. Components are
// names separated by ";", or "All" (or an empty cell) for every
// component. A dry run (PlanSubscriberImport) says what the import
// (ImportSubscribers) would do; both read the file the same way.

// MaxImportBytes bounds an import file.
const MaxImportBytes = 5 << 20

// importBatch is how many rows one INSERT writes.
const importBatch = 500

// ErrImportFile: the file is not a CSV Herald can read; Problem says why.
type ErrImportFile struct{ Problem string }

func (e *ErrImportFile) Error() string { return "import file: " + e.Problem }

// ImportProblem is a line of the file that is not imported, and why.
type ImportProblem struct {
	Line   int
	Reason string
}

// SubscriberImport is what an import does (or did): how many addresses
// it adds, how many are subscribed already, and the invalid lines.
type SubscriberImport struct {
	Added    int
	Existing int
	Invalid  []ImportProblem
	// UnknownComponents are the component names the file uses that the
	// page does not have (their lines are invalid).
	UnknownComponents []string
	// rows are the addresses to add.
	rows []importRow
}

type importRow struct {
	email string
	all   bool
	comps []int64
}

// checkImportCell says what is wrong with a raw address cell, before
// NormalizeSubscriberEmail: the byte-level problems are named precisely.
func checkImportCell(cell string) string {
	switch {
	case !utf8.ValidString(cell):
		return "The address is not valid UTF-8 text."
	case strings.ContainsRune(cell, 0):
		return "The address contains a NUL byte."
	case strings.ContainsAny(cell, "\r\n"):
		return "The address contains a line break."
	}
	_, problem := NormalizeSubscriberEmail(cell)
	return problem
}

// parseSubscriberCSV reads the file against the page's components.
func parseSubscriberCSV(data []byte, comps []Component) (*SubscriberImport, error) {
	if len(data) > MaxImportBytes {
		return nil, &ErrImportFile{Problem: fmt.Sprintf("The file is larger than %d MiB.", MaxImportBytes>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte-order mark
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ErrImportFile{Problem: "The file is empty."}
	}
	if looksBinary(data) {
		return nil, &ErrImportFile{Problem: "This is not a CSV file: it holds binary data. Export the list as CSV (comma-separated values) and upload that."}
	}
	byName := map[string]int64{}
	for _, c := range comps {
		byName[strings.ToLower(strings.TrimSpace(c.Name))] = c.ID
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	out := &SubscriberImport{}
	emailCol, compCol := 0, -1
	seen := map[string]int{}
	unknown := map[string]bool{}
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &ErrImportFile{Problem: fmt.Sprintf("Line %d is not valid CSV (%s). Check its quotes; nothing was imported.", pe.StartLine, pe.Err)}
			}
			return nil, &ErrImportFile{Problem: "The file could not be read as CSV."}
		}
		line, _ := r.FieldPos(0)
		if first {
			first = false
			if e, c, ok := importHeader(rec); ok {
				emailCol, compCol = e, c
				continue
			}
		}
		if emailCol >= len(rec) {
			out.Invalid = append(out.Invalid, ImportProblem{line, "The line has no address column."})
			continue
		}
		cell := strings.TrimSpace(rec[emailCol])
		if problem := checkImportCell(cell); problem != "" {
			out.Invalid = append(out.Invalid, ImportProblem{line, problem})
			continue
		}
		email, _ := NormalizeSubscriberEmail(cell)
		if prev, dup := seen[email]; dup {
			out.Invalid = append(out.Invalid, ImportProblem{line, fmt.Sprintf("The same address as line %d.", prev)})
			continue
		}
		row := importRow{email: email, all: true}
		if compCol >= 0 && compCol < len(rec) {
			ids, missing, problem := importComponents(rec[compCol], byName)
			if problem != "" {
				out.Invalid = append(out.Invalid, ImportProblem{line, problem})
				continue
			}
			if len(missing) > 0 {
				for _, m := range missing {
					unknown[m] = true
				}
				out.Invalid = append(out.Invalid, ImportProblem{line, "Unknown component: “" + strings.Join(missing, "”, “") + "”."})
				continue
			}
			if ids != nil {
				row.all, row.comps = false, ids
			}
		}
		seen[email] = line
		out.rows = append(out.rows, row)
	}
	for name := range unknown {
		out.UnknownComponents = append(out.UnknownComponents, name)
	}
	slices.Sort(out.UnknownComponents)
	return out, nil
}

// importHeader finds the address and components columns of a header row.
func importHeader(rec []string) (emailCol, compCol int, ok bool) {
	emailCol, compCol = -1, -1
	for i, cell := range rec {
		switch strings.ToLower(strings.TrimSpace(cell)) {
		case "email", "e-mail", "email address", "e-mail address", "email_address":
			if emailCol < 0 {
				emailCol = i
			}
		case "components", "component":
			if compCol < 0 {
				compCol = i
			}
		}
	}
	return emailCol, compCol, emailCol >= 0
}

// importComponents reads a components cell: "All" or empty is nil (every
// component), else the ids of the names, and the names the page lacks.
func importComponents(cell string, byName map[string]int64) (ids []int64, missing []string, problem string) {
	if !utf8.ValidString(cell) || strings.ContainsRune(cell, 0) {
		return nil, nil, "The components are not valid text."
	}
	cell = strings.TrimSpace(cell)
	if cell == "" || strings.EqualFold(cell, "all") {
		return nil, nil, ""
	}
	for _, name := range strings.Split(cell, ";") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		id, ok := byName[strings.ToLower(name)]
		if !ok {
			if len(name) > 100 {
				name = name[:100] + "…"
			}
			missing = append(missing, name)
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && len(missing) == 0 {
		return nil, nil, ""
	}
	slices.Sort(ids)
	return ids, missing, ""
}

// looksBinary reports whether the start of the file is not text: NUL
// bytes, or a type http.DetectContentType recognises as binary.
func looksBinary(data []byte) bool {
	head := data[:min(len(data), 512)]
	if bytes.IndexByte(head, 0) >= 0 && bytes.Count(head, []byte{0}) > 4 {
		return true
	}
	ct := http.DetectContentType(head)
	return !strings.HasPrefix(ct, "text/") && ct != "application/octet-stream"
}

// existingEmails are the addresses among emails a page has already.
func existingEmails(tx *gorm.DB, pageID int64, emails []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(emails); start += importBatch {
		chunk := emails[start:min(start+importBatch, len(emails))]
		var found []string
		if err := tx.Model(&Subscriber{}).Where("page_id = ? AND kind = ? AND email IN ?", pageID, SubscriberEmail, chunk).
			Pluck("email", &found).Error; err != nil {
			return nil, fmt.Errorf("addresses subscribed already: %w", err)
		}
		for _, e := range found {
			out[e] = true
		}
	}
	return out, nil
}

// plan reads the file and drops the addresses the page has already.
func (s *Store) planImport(tx *gorm.DB, pageID int64, data []byte) (*SubscriberImport, error) {
	var comps []Component
	if err := tx.Where("page_id = ?", pageID).Find(&comps).Error; err != nil {
		return nil, fmt.Errorf("components: %w", err)
	}
	plan, err := parseSubscriberCSV(data, comps)
	if err != nil {
		return nil, err
	}
	emails := make([]string, len(plan.rows))
	for i, r := range plan.rows {
		emails[i] = r.email
	}
	have, err := existingEmails(tx, pageID, emails)
	if err != nil {
		return nil, err
	}
	rows := plan.rows[:0]
	for _, r := range plan.rows {
		if have[r.email] {
			plan.Existing++
		} else {
			rows = append(rows, r)
		}
	}
	plan.rows, plan.Added = rows, len(rows)
	return plan, nil
}

// PlanSubscriberImport is the dry run: what ImportSubscribers would do
// with the file now. It writes nothing. A file it cannot read is an
// *ErrImportFile.
func (s *Store) PlanSubscriberImport(ctx context.Context, pageID int64, data []byte) (*SubscriberImport, error) {
	plan, err := s.planImport(s.conn(ctx), pageID, data)
	if err != nil {
		return nil, wrapImport(err)
	}
	return plan, nil
}

func wrapImport(err error) error {
	var fe *ErrImportFile
	if errors.As(err, &fe) {
		return fe
	}
	return fmt.Errorf("import subscribers: %w", err)
}

// ImportSubscribers adds the file's new addresses as active subscribers
// (confirmed in the product they come from: no confirmation e-mail), each
// with its own preferences link, in one transaction of bulk INSERTs, and
// audits the import once, with counts only.
func (s *Store) ImportSubscribers(ctx context.Context, pageID int64, data []byte) (*SubscriberImport, error) {
	if s.sealer == nil {
		return nil, ErrNoSealer
	}
	now := s.Now()
	var plan *SubscriberImport
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		plan, err = s.planImport(tx, pageID, data)
		if err != nil {
			return err
		}
		subs := make([]Subscriber, len(plan.rows))
		for i, r := range plan.rows {
			hash, sealed, err := s.newManageToken()
			if err != nil {
				return err
			}
			subs[i] = Subscriber{PageID: pageID, Kind: SubscriberEmail, Email: r.email, State: SubscriberActive,
				AllComponents: r.all, ManageTokenHash: hash, ManageTokenSealed: sealed, CreatedAt: now, ConfirmedAt: &now}
		}
		if len(subs) > 0 {
			if err := tx.Omit("Components").CreateInBatches(&subs, importBatch).Error; err != nil {
				return fmt.Errorf("insert subscribers: %w", err)
			}
		}
		var links []subscriberComponent
		for i, r := range plan.rows {
			for _, c := range r.comps {
				links = append(links, subscriberComponent{SubscriberID: subs[i].ID, ComponentID: c})
			}
		}
		if len(links) > 0 {
			if err := tx.CreateInBatches(&links, importBatch).Error; err != nil {
				return fmt.Errorf("insert subscriber components: %w", err)
			}
		}
		return audit(ctx, tx, change{PageID: pageID, Action: "subscriber.import", ObjectType: AuditSubscriber,
			Summary: fmt.Sprintf("Imported %d confirmed e-mail %s from a CSV file (%d subscribed already, %d invalid lines).",
				plan.Added, plural(plan.Added, "subscriber", "subscribers"), plan.Existing, len(plan.Invalid)),
			After: struct {
				Added    int `json:"added"`
				Existing int `json:"existing"`
				Invalid  int `json:"invalid"`
			}{plan.Added, plan.Existing, len(plan.Invalid)}})
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, &ErrImportFile{Problem: "Someone subscribed with one of these addresses during the import; nothing was imported. Run the import again."}
	}
	if err != nil {
		return nil, wrapImport(err)
	}
	return plan, nil
}
