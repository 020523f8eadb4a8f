package markdown

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// plainWriter collects the text of a Markdown document.
type plainWriter struct {
	b          strings.Builder
	linkStarts []int
}

var manyNewlines = regexp.MustCompile(`\n{3,}`)

func (w *plainWriter) String() string {
	lines := strings.Split(w.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(manyNewlines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// breakLines makes the output end with at least n newlines, unless nothing
// was written yet.
func (w *plainWriter) breakLines(n int) {
	s := w.b.String()
	if s == "" {
		return
	}
	have := len(s) - len(strings.TrimRight(s, "\n"))
	for ; have < n; have++ {
		w.b.WriteByte('\n')
	}
}

func listDepth(n ast.Node) int {
	depth := 0
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.List); ok {
			depth++
		}
	}
	return depth
}

func (w *plainWriter) walk(doc ast.Node, src []byte) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		switch n := n.(type) {
		case *ast.Text:
			if entering {
				w.b.Write(n.Value(src))
				switch {
				case n.HardLineBreak():
					w.b.WriteByte('\n')
				case n.SoftLineBreak():
					w.b.WriteByte(' ')
				}
			}
		case *ast.String:
			if entering {
				w.b.Write(n.Value)
			}
		case *ast.AutoLink:
			if entering {
				w.b.Write(n.Label(src))
			}
			return ast.WalkSkipChildren, nil
		case *ast.Link:
			if entering {
				w.linkStarts = append(w.linkStarts, w.b.Len())
				break
			}
			start := w.linkStarts[len(w.linkStarts)-1]
			w.linkStarts = w.linkStarts[:len(w.linkStarts)-1]
			dest := string(n.Destination)
			if safeURL(dest) && w.b.String()[start:] != dest {
				w.b.WriteString(" (" + dest + ")")
			}
		case *ast.RawHTML, *ast.HTMLBlock:
			return ast.WalkSkipChildren, nil
		case *ast.CodeBlock, *ast.FencedCodeBlock:
			if entering {
				w.breakLines(2)
				lines := n.Lines()
				for i := 0; i < lines.Len(); i++ {
					seg := lines.At(i)
					w.b.Write(seg.Value(src))
				}
				w.breakLines(2)
			}
			return ast.WalkSkipChildren, nil
		case *ast.ThematicBreak:
			if entering {
				w.breakLines(2)
				w.b.WriteString("---")
				w.breakLines(2)
			}
		case *ast.Paragraph:
			if entering {
				if _, inItem := n.Parent().(*ast.ListItem); inItem {
					if n.PreviousSibling() != nil {
						w.breakLines(1)
					}
				} else {
					w.breakLines(2)
				}
			}
		case *ast.Heading, *ast.Blockquote, *ast.List:
			if entering && listDepth(n) == 0 {
				w.breakLines(2)
			} else if entering {
				w.breakLines(1)
			}
		case *ast.ListItem:
			if entering {
				w.breakLines(1)
				w.b.WriteString(strings.Repeat("  ", listDepth(n)-1))
				w.b.WriteString(itemMarker(n))
			}
		case *east.Table:
			if entering {
				w.breakLines(2)
			}
		case *east.TableRow, *east.TableHeader:
			if entering {
				w.breakLines(1)
			}
		case *east.TableCell:
			if entering && n.PreviousSibling() != nil {
				w.b.WriteString(" | ")
			}
		case *east.TaskCheckBox:
			if entering {
				if n.IsChecked {
					w.b.WriteString("[x] ")
				} else {
					w.b.WriteString("[ ] ")
				}
			}
		}
		return ast.WalkContinue, nil
	})
}

func itemMarker(item *ast.ListItem) string {
	list, ok := item.Parent().(*ast.List)
	if !ok || !list.IsOrdered() {
		return "- "
	}
	n := list.Start
	for s := item.PreviousSibling(); s != nil; s = s.PreviousSibling() {
		n++
	}
	return strconv.Itoa(n) + ". "
}

// safeURL reports whether a link destination is worth printing in text.
func safeURL(dest string) bool {
	d := strings.ToLower(strings.TrimSpace(dest))
	return strings.HasPrefix(d, "http://") || strings.HasPrefix(d, "https://") || strings.HasPrefix(d, "mailto:")
}
