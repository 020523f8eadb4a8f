package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldstatus/herald/handlers/serve"
	"github.com/labstack/echo/v4"
)

// Paginated lists of the API take ?page=N (from 1) and ?per_page=M (1 to
// 100, default 25) and answer with X-Total-Count and an RFC 8288 Link
// header (first, prev, next, last) whose URLs keep the filters.
const (
	defaultPerPage = 25
	maxPerPage     = 100
	// maxListPage keeps offsets far from overflowing.
	maxListPage = 100_000
)

// listPaging is the page of a list a request asks for.
type listPaging struct {
	Page    int
	PerPage int
}

func (p listPaging) offset() int { return (p.Page - 1) * p.PerPage }

// pageOf cuts p's page out of a whole list.
func pageOf[T any](list []T, p listPaging) []T {
	start := min(p.offset(), len(list))
	return list[start:min(start+p.PerPage, len(list))]
}

// readListQuery reads page and per_page, and the filters the endpoint
// accepts, from the query string. A parameter that is unknown, repeated
// or not a number in range is a 400 naming it: a typo such as ?stauts=
// must not quietly list everything.
func readListQuery(c echo.Context, filters ...string) (listPaging, url.Values, error) {
	p := listPaging{Page: 1, PerPage: defaultPerPage}
	query := c.QueryParams()
	chosen := url.Values{}
	names := make([]string, 0, len(query))
	for name := range query {
		names = append(names, name)
	}
	slices.Sort(names) // the first bad parameter named is always the same
	accepted := append([]string{"page", "per_page"}, filters...)
	for _, name := range names {
		values := query[name]
		if !slices.Contains(accepted, name) {
			return p, nil, queryProblem("unknown_parameter", name,
				fmt.Sprintf("Unknown query parameter “%s”. This endpoint accepts: %s.", name, strings.Join(accepted, ", ")))
		}
		if len(values) != 1 {
			return p, nil, queryProblem("invalid_parameter", name, fmt.Sprintf("Give “%s” once.", name))
		}
		switch name {
		case "page":
			n, err := strconv.Atoi(values[0])
			if err != nil || n < 1 || n > maxListPage {
				return p, nil, queryProblem("invalid_parameter", name,
					fmt.Sprintf("“page” must be a whole number from 1 to %d.", maxListPage))
			}
			p.Page = n
		case "per_page":
			n, err := strconv.Atoi(values[0])
			if err != nil || n < 1 || n > maxPerPage {
				return p, nil, queryProblem("invalid_parameter", name,
					fmt.Sprintf("“per_page” must be a whole number from 1 to %d.", maxPerPage))
			}
			p.PerPage = n
		default:
			chosen.Set(name, values[0])
		}
	}
	return p, chosen, nil
}

func queryProblem(code, name, message string) *serve.Problem {
	return &serve.Problem{Status: http.StatusBadRequest, Code: code, Field: name, Message: message}
}

// setListHeaders writes X-Total-Count and the Link header of page p of a
// list of total items. Links are path-absolute and carry filters.
func setListHeaders(c echo.Context, p listPaging, total int, filters url.Values) {
	last := max(1, (total+p.PerPage-1)/p.PerPage)
	link := func(page int, rel string) string {
		q := url.Values{}
		for k, v := range filters {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(p.PerPage))
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, c.Request().URL.Path, q.Encode(), rel)
	}
	links := []string{link(1, "first")}
	if p.Page > 1 {
		links = append(links, link(min(p.Page-1, last), "prev"))
	}
	if p.Page < last {
		links = append(links, link(p.Page+1, "next"))
	}
	links = append(links, link(last, "last"))
	h := c.Response().Header()
	h.Set("Link", strings.Join(links, ", "))
	h.Set("X-Total-Count", strconv.Itoa(total))
}
