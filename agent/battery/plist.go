package battery

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxPlistDepth bounds nesting: ioreg's battery entry nests four deep; a
// bound keeps a hostile or broken input from growing the stack.
const maxPlistDepth = 32

// parsePlist decodes an XML property list, as ioreg -a prints it, into Go
// values: map[string]any for dict, []any for array, string for string and
// date, int64 for integer (uint64 past the int64 range: ioreg prints some
// negative counters as their unsigned 64-bit value), float64 for real, bool,
// and []byte for data. It is the small part of the format ioreg uses; no
// plist library is worth a dependency for it.
func parsePlist(data []byte) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, errors.New("no property list")
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue // the XML declaration, the DOCTYPE, white space
		}
		if se.Name.Local != "plist" {
			return parseElement(d, se, 0)
		}
		v, end, err := parseNext(d, 0)
		if err != nil {
			return nil, err
		}
		if end {
			return nil, errors.New("empty property list")
		}
		return v, nil
	}
}

// parseNext returns the next value, or end when the enclosing element ends.
func parseNext(d *xml.Decoder, depth int) (v any, end bool, err error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, false, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			v, err := parseElement(d, t, depth)
			return v, false, err
		case xml.EndElement:
			return nil, true, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, false, fmt.Errorf("stray text %q", truncate(string(t), 32))
			}
		}
	}
}

func parseElement(d *xml.Decoder, se xml.StartElement, depth int) (any, error) {
	if depth >= maxPlistDepth {
		return nil, fmt.Errorf("property list nested deeper than %d", maxPlistDepth)
	}
	switch se.Name.Local {
	case "dict":
		m := map[string]any{}
		for {
			tok, end, err := nextStart(d)
			if err != nil {
				return nil, err
			}
			if end {
				return m, nil
			}
			if tok.Name.Local != "key" {
				return nil, fmt.Errorf("dict holds <%s> where a <key> belongs", tok.Name.Local)
			}
			key, err := text(d)
			if err != nil {
				return nil, err
			}
			v, end, err := parseNext(d, depth+1)
			if err != nil {
				return nil, err
			}
			if end {
				return nil, fmt.Errorf("dict key %q has no value", truncate(key, 32))
			}
			m[key] = v
		}
	case "array":
		a := []any{}
		for {
			v, end, err := parseNext(d, depth+1)
			if err != nil {
				return nil, err
			}
			if end {
				return a, nil
			}
			a = append(a, v)
		}
	case "string", "date":
		return text(d)
	case "integer":
		s, err := text(d)
		if err != nil {
			return nil, err
		}
		s = strings.TrimSpace(s)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
		return nil, fmt.Errorf("bad integer %q", truncate(s, 32))
	case "real":
		s, err := text(d)
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("bad real %q", truncate(s, 32))
		}
		return f, nil
	case "true", "false":
		if _, err := text(d); err != nil {
			return nil, err
		}
		return se.Name.Local == "true", nil
	case "data":
		s, err := text(d)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, fmt.Errorf("bad data: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown property list element <%s>", truncate(se.Name.Local, 32))
}

// nextStart returns the next start element, or end when the enclosing
// element ends.
func nextStart(d *xml.Decoder) (xml.StartElement, bool, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, false, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, false, nil
		case xml.EndElement:
			return xml.StartElement{}, true, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, false, fmt.Errorf("stray text %q", truncate(string(t), 32))
			}
		}
	}
}

// text reads the character data of a leaf element up to its end.
func text(d *xml.Decoder) (string, error) {
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.EndElement:
			return sb.String(), nil
		case xml.StartElement:
			return "", fmt.Errorf("<%s> inside a leaf element", truncate(t.Name.Local, 32))
		}
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
