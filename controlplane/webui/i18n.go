package webui

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Languages the UI speaks; the first is the default.
var Languages = []string{"en", "fr"}

// language picks the page's language: the switch's cookie, else the
// browser's Accept-Language, else English.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "fr" || c.Value == "en") {
		return c.Value
	}
	return negotiate(r.Header.Get("Accept-Language"))
}

// negotiate returns the language of an Accept-Language header that parc
// speaks and the browser prefers most (highest q, then first listed).
func negotiate(header string) string {
	best, bestQ := "en", -1.0
	for i, part := range strings.Split(header, ",") {
		if i >= 32 {
			break // a header longer than any browser sends
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if (base == "fr" || base == "en") && q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	return best
}

// translate renders key of the catalog in lang; args fill its %s/%d verbs.
// A key missing from the catalog shows as itself in brackets (a test
// checks that none is).
func translate(lang, key string, args ...any) string {
	m, ok := catalog[key]
	if !ok {
		return "[" + key + "]"
	}
	s := m.en
	if lang == "fr" {
		s = m.fr
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// funcs are the helpers templates use besides view's methods.
var funcs = template.FuncMap{
	"datetime": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.Local().Format("2006-01-02 15:04")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.Local().Format("2006-01-02 15:04")
		}
		return ""
	},
	"pct": func(f any) string {
		switch v := f.(type) {
		case float64:
			return strconv.FormatFloat(v, 'f', 0, 64) + " %"
		case *float64:
			if v == nil {
				return ""
			}
			return strconv.FormatFloat(*v, 'f', 0, 64) + " %"
		}
		return ""
	},
	"gib": func(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<30), 'f', 1, 64) + " GiB" },
	"key": func(prefix, v string) string { return prefix + "." + v },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}
