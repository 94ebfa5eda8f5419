package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
)

func TestEncodeDecode(t *testing.T) {
	r := testReport(42, 100)
	data, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("parc-spool 1 ")) {
		t.Fatalf("header %q", data[:20])
	}
	got, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !sameReport(t, got, r) {
		t.Fatal("decoded report differs")
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := encode(testReport(7, 0))
	if err != nil {
		t.Fatal(err)
	}
	nl := bytes.IndexByte(good, '\n')
	body := good[nl+1:]
	withHeader := func(h string, b []byte) []byte { return append([]byte(h), b...) }
	sum := fmt.Sprintf("%08x", crc32.Checksum(body, castagnoli))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no header"},
		{"no newline", []byte("parc-spool 1 12 00000000"), "no header"},
		{"header too long", []byte(strings.Repeat("a", maxHeaderLen) + "\n"), "no header"},
		{"wrong magic", withHeader("parc-spoil 1 0 00000000\n", nil), "not a spool file"},
		{"too few fields", withHeader("parc-spool 1 12\n", nil), "not a spool file"},
		{"double space", withHeader("parc-spool  1 12 "+sum+"\n", body), "not a spool file"},
		{"future version", withHeader(fmt.Sprintf("parc-spool 2 %d %s\n", len(body), sum), body), "version"},
		{"negative length", withHeader("parc-spool 1 -5 "+sum+"\n", body), "bad body length"},
		{"leading zero length", withHeader(fmt.Sprintf("parc-spool 1 0%d %s\n", len(body), sum), body), "bad body length"},
		{"short checksum", withHeader(fmt.Sprintf("parc-spool 1 %d abc\n", len(body)), body), "bad checksum"},
		{"non-hex checksum", withHeader(fmt.Sprintf("parc-spool 1 %d zzzzzzzz\n", len(body)), body), "bad checksum"},
		{"truncated body", good[:len(good)-1], "header says"},
		{"trailing bytes", append(bytes.Clone(good), '\n'), "header says"},
		{"damaged body", append(bytes.Clone(good[:len(good)-2]), 'X', '}'), "checksum"},
		{"valid checksum, not JSON", withHeader(fmt.Sprintf("parc-spool 1 3 %08x\n", crc32.Checksum([]byte("abc"), castagnoli)), []byte("abc")), "invalid character"},
		{"no seq", withHeader(fmt.Sprintf("parc-spool 1 2 %08x\n", crc32.Checksum([]byte("{}"), castagnoli)), []byte("{}")), "no sequence number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decode(tt.data)
			if err == nil {
				t.Fatalf("decode accepted it: %+v", r)
			}
			if !errors.Is(err, errCorrupt) {
				t.Errorf("error %v does not wrap errCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder that reads spool files
// back after crashes and disk damage. It must never panic, and whatever it
// accepts must be a report that encodes to a file it accepts again.
func FuzzDecode(f *testing.F) {
	for _, seq := range []uint64{1, 1 << 40} {
		data, err := encode(testReport(seq, 0))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		// Mutations rarely keep the checksum right; framing the input as a
		// body with a valid header lets the fuzzer reach the JSON decoding.
		framed := fmt.Appendf(nil, "%s %s %d %08x\n", fileMagic, fileVersion, len(data), crc32.Checksum(data, castagnoli))
		checkDecode(t, append(framed, data...))
	})
}

func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	r, err := decode(data)
	if err != nil {
		if !errors.Is(err, errCorrupt) {
			t.Fatalf("error %v does not wrap errCorrupt", err)
		}
		return
	}
	if r.Seq == 0 {
		t.Fatal("accepted a report without seq")
	}
	again, err := encode(r)
	if err != nil {
		t.Fatalf("re-encoding an accepted report: %v", err)
	}
	r2, err := decode(again)
	if err != nil {
		t.Fatalf("decoding a re-encoded report: %v", err)
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(r2)
	if !bytes.Equal(a, b) {
		t.Fatalf("round trip changed the report:\n%s\n%s", a, b)
	}
}
