package agentapi

import (
	"fmt"
	"reflect"
	"strings"
)

// Bounds on what a report may hold. They are far above what a real machine
// reports and keep a buggy or hostile agent from filling etcd.
const (
	MaxStringLen     = 1024
	MaxListLen       = 512
	MaxExtraFacts    = 32
	MaxFingerprintLn = 64
	// MaxFactDepth bounds the nesting of a fact this version does not know
	// (Extra, kept as raw JSON): real facts are a few levels deep, and
	// thousands of levels cost every later reader's stack.
	MaxFactDepth = 32
)

// Validate checks a report the server received: required fields present,
// every string and list within bounds. The error names the offending field.
func (r *Report) Validate() error {
	if r.Schema < 1 {
		return fmt.Errorf("schema: want >= 1, got %d", r.Schema)
	}
	if r.Seq == 0 {
		return fmt.Errorf("seq: want >= 1")
	}
	if r.Fingerprint == "" || len(r.Fingerprint) > MaxFingerprintLn {
		return fmt.Errorf("fingerprint: want 1 to %d characters", MaxFingerprintLn)
	}
	if r.CollectedAt.IsZero() {
		return fmt.Errorf("collected_at: missing")
	}
	if len(r.Extra) > MaxExtraFacts {
		return fmt.Errorf("extra: %d facts, at most %d", len(r.Extra), MaxExtraFacts)
	}
	for name, raw := range r.Extra {
		if d := jsonDepth(raw); d > MaxFactDepth {
			return fmt.Errorf("extra.%.64s: nested %d deep, at most %d", name, d, MaxFactDepth)
		}
	}
	if r.Link != nil {
		if err := r.Link.validate(); err != nil {
			return fmt.Errorf("link.%w", err)
		}
	}
	return checkBounds(reflect.ValueOf(r).Elem(), "report")
}

// Bounds of a probe's figures: a round trip of more than ten minutes or a
// thousand attempts per target is no measurement but a bug or a lie.
const (
	maxProbeAttempts = 1000
	maxProbeRTTMs    = 600_000
	maxProbeMbps     = 1_000_000
)

// validate checks the figures a probe reported are figures: counts within
// bounds, loss a ratio, times and rates not negative.
func (l *LinkFacts) validate() error {
	if l.MeasuredAt.IsZero() {
		return fmt.Errorf("measured_at: missing")
	}
	if l.DownloadMbps < 0 || l.DownloadMbps > maxProbeMbps {
		return fmt.Errorf("download_mbps: %v, want 0 to %d", l.DownloadMbps, maxProbeMbps)
	}
	for i, t := range l.Targets {
		switch {
		case t.Method != ProbeTCP && t.Method != ProbeICMP:
			return fmt.Errorf("targets[%d].method: want %q or %q, got %.64q", i, ProbeTCP, ProbeICMP, t.Method)
		case t.Sent < 0 || t.Sent > maxProbeAttempts:
			return fmt.Errorf("targets[%d].sent: %d, want 0 to %d", i, t.Sent, maxProbeAttempts)
		case t.Received < 0 || t.Received > t.Sent:
			return fmt.Errorf("targets[%d].received: %d, want 0 to sent (%d)", i, t.Received, t.Sent)
		case !(t.Loss >= 0 && t.Loss <= 1):
			return fmt.Errorf("targets[%d].loss: %v, want a ratio from 0 to 1", i, t.Loss)
		case !(t.RTTMs >= 0 && t.RTTMs <= maxProbeRTTMs):
			return fmt.Errorf("targets[%d].rtt_ms: %v, want 0 to %d", i, t.RTTMs, maxProbeRTTMs)
		}
	}
	return nil
}

// jsonDepth returns how deeply arrays and objects nest in a JSON value.
func jsonDepth(raw []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// checkBounds walks v and rejects strings and lists over the bounds.
func checkBounds(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > MaxStringLen {
			return fmt.Errorf("%s: %d bytes, at most %d", path, v.Len(), MaxStringLen)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return checkBounds(v.Elem(), path)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage: bounded by the body limit
			return nil
		}
		if v.Len() > MaxListLen {
			return fmt.Errorf("%s: %d entries, at most %d", path, v.Len(), MaxListLen)
		}
		for i := range v.Len() {
			if err := checkBounds(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if k.Kind() == reflect.String && k.Len() > MaxStringLen {
				return fmt.Errorf("%s: key of %d bytes, at most %d", path, k.Len(), MaxStringLen)
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if err := checkBounds(v.Field(i), path+"."+name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate checks a check-in the server received: a known kind carrying
// the part it names, within bounds. Unknown fields were already dropped by
// decoding (a newer agent may send them).
func (c *CheckinRequest) Validate() error {
	switch c.Kind {
	case KindReport:
		if c.Report == nil {
			return fmt.Errorf("report: missing for kind %q", KindReport)
		}
		return c.Report.Validate()
	case KindHeartbeat:
		if c.Heartbeat == nil {
			return fmt.Errorf("heartbeat: missing for kind %q", KindHeartbeat)
		}
		return c.Heartbeat.Validate()
	default:
		return fmt.Errorf("kind: want %q or %q, got %.64q", KindReport, KindHeartbeat, c.Kind)
	}
}

// Validate checks a heartbeat: a fingerprint within bounds. An empty
// fingerprint is valid: it asks for a full report.
func (h *Heartbeat) Validate() error {
	if len(h.Fingerprint) > MaxFingerprintLn {
		return fmt.Errorf("heartbeat.fingerprint: longer than %d", MaxFingerprintLn)
	}
	return nil
}
