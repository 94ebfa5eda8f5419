// Package sheet reads the CSV files people export from spreadsheets:
// headers in English or French under many spellings, comma or semicolon
// separated, UTF-8 with or without a byte-order mark. Inventory imports,
// bulk loans and needs all read their files through it.
package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// FileError is a problem with the file as a whole (not UTF-8, too large,
// too many rows), as opposed to problems of some lines.
type FileError struct{ Msg string }

func (e *FileError) Error() string { return e.Msg }

// LineError is what is wrong with one line.
type LineError struct {
	Line    int
	Message string
}

// Row is one data line: its line number and its values by column.
type Row struct {
	Line   int
	Values map[string]string
}

// Get returns the trimmed value of column col ("" when absent).
func (r Row) Get(col string) string { return r.Values[col] }

// Format describes the columns of a kind of file.
type Format struct {
	// Aliases maps normalised header names (Normalize) to column names.
	Aliases map[string]string
	// Required columns must be present.
	Required []string
	// Example gives, per column, a header to suggest when it is missing.
	Example map[string]string
	// MaxBytes and MaxRows bound the file, MaxColumns its lines and
	// MaxFieldLen each value.
	MaxBytes    int64
	MaxRows     int
	MaxColumns  int
	MaxFieldLen int
}

// Read reads a file in format f. Header problems are errors of line 1 and
// no rows are returned then; a line the CSV reader cannot parse is an
// error of its line. Columns it does not know are returned in ignored.
func Read(r io.Reader, f Format) (rows []Row, lineErrs []LineError, ignored []string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, f.MaxBytes+1))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the file: %w", err)
	}
	if int64(len(data)) > f.MaxBytes {
		return nil, nil, nil, &FileError{fmt.Sprintf("file larger than %d KiB", f.MaxBytes>>10)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, nil, nil, &FileError{`file is not UTF-8 text (save it from your spreadsheet as "CSV UTF-8")`}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffDelimiter(data)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err != nil {
		return nil, nil, nil, &FileError{fmt.Sprintf("line 1: reading the header: %v", err)}
	}
	if f.MaxColumns > 0 && len(header) > f.MaxColumns {
		return nil, nil, nil, &FileError{fmt.Sprintf("line 1: %d columns, at most %d", len(header), f.MaxColumns)}
	}
	cols := make([]string, len(header))
	seen := map[string]int{}
	for i, h := range header {
		col, ok := f.Aliases[Normalize(h)]
		if !ok {
			if strings.TrimSpace(h) != "" {
				ignored = append(ignored, h)
			}
			continue
		}
		if prev, dup := seen[col]; dup {
			lineErrs = append(lineErrs, LineError{Line: 1, Message: fmt.Sprintf("columns %q and %q both mean %s", header[prev], h, col)})
		}
		seen[col] = i
		cols[i] = col
	}
	for _, need := range f.Required {
		if _, ok := seen[need]; !ok {
			msg := fmt.Sprintf("no %s column", need)
			if ex := f.Example[need]; ex != "" {
				msg += fmt.Sprintf(" (headers such as %q)", ex)
			}
			lineErrs = append(lineErrs, LineError{Line: 1, Message: msg})
		}
	}
	if len(lineErrs) > 0 {
		return nil, lineErrs, ignored, nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				lineErrs = append(lineErrs, LineError{Line: pe.StartLine, Message: pe.Err.Error()})
				continue
			}
			return nil, nil, nil, &FileError{fmt.Sprintf("reading the file: %v", err)}
		}
		if blank(rec) {
			continue
		}
		if len(rows)+len(lineErrs) >= f.MaxRows {
			return nil, nil, nil, &FileError{fmt.Sprintf("more than %d rows: split the file", f.MaxRows)}
		}
		line, _ := cr.FieldPos(0)
		if f.MaxColumns > 0 && len(rec) > f.MaxColumns {
			lineErrs = append(lineErrs, LineError{Line: line, Message: fmt.Sprintf("%d values, at most %d", len(rec), f.MaxColumns)})
			continue
		}
		row := Row{Line: line, Values: make(map[string]string, len(rec))}
		tooLong := false
		for i, v := range rec {
			if f.MaxFieldLen > 0 && len(v) > f.MaxFieldLen {
				tooLong = true
			}
			if i < len(cols) && cols[i] != "" {
				row.Values[cols[i]] = strings.TrimSpace(v)
			}
		}
		if tooLong {
			lineErrs = append(lineErrs, LineError{Line: line, Message: fmt.Sprintf("a value longer than %d characters", f.MaxFieldLen)})
			continue
		}
		rows = append(rows, row)
	}
	return rows, lineErrs, ignored, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// sniffDelimiter picks ';' or ',' from the header line: French spreadsheets
// write ';' because ',' is their decimal separator.
func sniffDelimiter(data []byte) rune {
	first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		return ';'
	}
	return ','
}

// Normalize folds a header or a value people type for comparison: lower
// case, accents removed, runs of spaces, '_', '-', '.', '/', '°' and
// apostrophes made one space. "Numéro d'inventaire" and
// "numero_d_inventaire" are the same.
func Normalize(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	folded = strings.ToLower(folded)
	folded = strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', '\'', '’', '°', '/':
			return ' '
		}
		return r
	}, folded)
	return strings.Join(strings.Fields(folded), " ")
}

// Bool reads yes/no the way people write it, in English or French.
func Bool(s string) (bool, error) {
	switch Normalize(s) {
	case "", "no", "n", "false", "0", "non", "faux":
		return false, nil
	case "yes", "y", "true", "1", "oui", "o", "vrai", "x":
		return true, nil
	}
	return false, fmt.Errorf("%q: want yes or no (oui ou non)", s)
}

// Date reads a date as spreadsheets write it, ISO or day first (French),
// and returns it as YYYY-MM-DD ("" for "").
func Date(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, layout := range []string{time.DateOnly, "02/01/2006", "2/1/2006", "02-01-2006", "02.01.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", fmt.Errorf("date %q: want YYYY-MM-DD or DD/MM/YYYY", s)
}
