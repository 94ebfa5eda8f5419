package agentapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

const hash = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseEnrollToken(t *testing.T) {
	tests := []struct {
		in      string
		want    EnrollToken
		wantErr bool
	}{
		{in: "pe_abc.def@" + hash, want: EnrollToken{Credential: "pe_abc.def", CAHash: hash}},
		{in: "  pe_abc.def@" + strings.ToUpper(hash) + "\n", want: EnrollToken{Credential: "pe_abc.def", CAHash: hash}},
		{in: "pe_abc.def", want: EnrollToken{Credential: "pe_abc.def"}},
		{in: "", wantErr: true},
		{in: "pa_abc.def@" + hash, wantErr: true},
		{in: "pe_abcdef@" + hash, wantErr: true},
		{in: "pe_abc.def@", wantErr: true},
		{in: "pe_abc.def@sha1:0123", wantErr: true},
		{in: "pe_abc.def@" + hash[:len(hash)-1], wantErr: true},
		{in: "pe_abc.def@" + hash[:len(hash)-1] + "g", wantErr: true},
		{in: "pe_abc.def@" + hash + "@" + hash, wantErr: true},
		{in: "pe_a bc.def@" + hash, wantErr: true},
		{in: "pe_" + strings.Repeat("a", 300) + ".d", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseEnrollToken(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseEnrollToken(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if id := (EnrollToken{Credential: "pe_abc.def"}).ID(); id != "abc" {
		t.Errorf("ID = %q", id)
	}
}

func selfSigned(t *testing.T) (*x509.Certificate, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestPinnedCA(t *testing.T) {
	a, pemA := selfSigned(t)
	b, pemB := selfSigned(t)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(CAHash(a)) || CAHash(a) == CAHash(b) {
		t.Fatalf("hashes %s %s", CAHash(a), CAHash(b))
	}
	bundle := append(append([]byte{}, pemA...), pemB...)
	if got, err := PinnedCA(bundle, CAHash(b)); err != nil || !got.Equal(b) {
		t.Errorf("pinning the second of a bundle: %v", err)
	}
	if _, err := PinnedCA(pemA, CAHash(b)); !errors.Is(err, ErrCAHashMismatch) {
		t.Errorf("bundle without the pinned CA: %v", err)
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"not PEM":   []byte("hello"),
		"a key":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}),
		"bad DER":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}),
		"too large": append(bundle, make([]byte, MaxCABundleBytes)...),
	} {
		if _, err := PinnedCA(bad, CAHash(a)); err == nil {
			t.Errorf("%s bundle accepted", name)
		}
	}
}

// FuzzParseEnrollToken: whatever a technician pastes, parsing never
// panics, and a token it accepts prints back to itself. Seeds in
// testdata/fuzz/FuzzParseEnrollToken.
func FuzzParseEnrollToken(f *testing.F) {
	f.Add("pe_abc.def@" + hash)
	hashRE := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseEnrollToken(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(tok.Credential, "pe_") || strings.ContainsAny(tok.Credential, "@ \t\n") {
			t.Fatalf("credential %q accepted", tok.Credential)
		}
		if tok.CAHash != "" && !hashRE.MatchString(tok.CAHash) {
			t.Fatalf("CA hash %q accepted", tok.CAHash)
		}
		again, err := ParseEnrollToken(tok.String())
		if err != nil || again != tok {
			t.Fatalf("%q parsed to %+v, which prints as %q and parses to %+v, %v", s, tok, tok.String(), again, err)
		}
	})
}
