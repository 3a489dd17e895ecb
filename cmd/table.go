package cmd

import (
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// table is a header and rows of cells, rendered as a terminal table or as
// GitHub Markdown.
type table struct {
	header []string
	rows   [][]string
	// right marks numeric columns, aligned right.
	right map[int]bool
	// coloured marks columns whose cells carry our own ANSI colour codes;
	// every other cell goes through safeText.
	coloured map[int]bool
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) render(w io.Writer, markdown bool) error {
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	} else {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})))
	}
	align := make(tw.Alignment, len(t.header))
	for i := range align {
		align[i] = tw.AlignLeft
		if t.right[i] {
			align[i] = tw.AlignRight
		}
	}
	opts = append(opts, tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}))
	tbl := tablewriter.NewTable(w, opts...)
	tbl.Header(anySlice(t.header)...)
	for _, r := range t.rows {
		safe := make([]string, len(r))
		for i, c := range r {
			safe[i] = c
			if !t.coloured[i] {
				safe[i] = safeText(c)
			}
		}
		if err := tbl.Append(safe); err != nil {
			return err
		}
	}
	return tbl.Render()
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
