package pki

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func managed(t *testing.T, dir string, now time.Time, hosts ...string) *PKI {
	t.Helper()
	p, err := Load(Config{DataDir: dir, Hosts: hosts, Now: func() time.Time { return now }, Log: quiet})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

// get makes an HTTPS request to a server using p, trusting only pinned,
// as an agent does, and naming the server host.
func get(t *testing.T, p *PKI, pinned []byte, host string) error {
	t.Helper()
	// Not httptest's StartTLS: it adds a certificate of its own, which Go
	// serves to clients that send no server name (IP addresses).
	ln, err := tls.Listen("tcp", "127.0.0.1:0", p.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	defer srv.Close()
	certs, err := agentapi.ParseCertificates(pinned)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: host}}}
	resp, err := c.Get("https://" + ln.Addr().String())
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestManagedFirstStartAndRestart(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	p := managed(t, dir, now, "parc.example.org", "10.1.2.3")
	for _, f := range []string{CAKey, KeyFile} {
		if m := mode(t, filepath.Join(dir, f)); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", f, m)
		}
	}
	ca, err := agentapi.ParseCertificates(p.CAPEM())
	if err != nil || len(ca) != 1 || !ca[0].IsCA {
		t.Fatalf("CA bundle: %v %v", ca, err)
	}
	if p.CAHash() != agentapi.CAHash(ca[0]) || !strings.HasPrefix(p.CAHash(), "sha256:") {
		t.Errorf("CA hash %q", p.CAHash())
	}
	for _, host := range []string{"localhost", "127.0.0.1", "parc.example.org", "10.1.2.3"} {
		if err := get(t, p, p.CAPEM(), host); err != nil {
			t.Errorf("TLS as %s: %v", host, err)
		}
	}
	if err := get(t, p, p.CAPEM(), "other.example.org"); err == nil {
		t.Error("certificate valid for a name it was not issued for")
	}
	// Another CA is not trusted: a client pinning it refuses the server.
	other := managed(t, t.TempDir(), now)
	if err := get(t, p, other.CAPEM(), "localhost"); err == nil {
		t.Error("a client pinning another CA accepted the server")
	}

	// A restart keeps the CA and the certificate.
	again := managed(t, dir, now, "parc.example.org", "10.1.2.3")
	if again.CAHash() != p.CAHash() || again.Certificate().Leaf.SerialNumber.Cmp(p.Certificate().Leaf.SerialNumber) != 0 {
		t.Error("restart made a new CA or certificate")
	}
	// A new name: a new certificate from the same CA.
	more := managed(t, dir, now, "parc.example.org", "10.1.2.3", "parc2.example.org")
	if more.CAHash() != p.CAHash() {
		t.Error("adding a name changed the CA")
	}
	if more.Certificate().Leaf.SerialNumber.Cmp(p.Certificate().Leaf.SerialNumber) == 0 {
		t.Error("adding a name did not issue a new certificate")
	}
	if err := get(t, more, p.CAPEM(), "parc2.example.org"); err != nil {
		t.Errorf("TLS as the new name: %v", err)
	}
}

func TestManagedRenewsBeforeExpiry(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	now := start
	p, err := Load(Config{DataDir: dir, Now: func() time.Time { return now }, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	first := p.Certificate().Leaf
	now = start.Add(200 * 24 * time.Hour)
	if err := p.Refresh(); err != nil {
		t.Fatal(err)
	}
	if p.Certificate().Leaf != first {
		t.Error("renewed with two thirds of its life left")
	}
	now = start.Add(300 * 24 * time.Hour)
	if err := p.Refresh(); err != nil {
		t.Fatal(err)
	}
	renewed := p.Certificate().Leaf
	if renewed == first || !renewed.NotAfter.After(first.NotAfter) {
		t.Errorf("not renewed 65 days before expiry: %v", renewed.NotAfter)
	}
	// The renewal is on disk: a restart serves it.
	if managed(t, dir, now).Certificate().Leaf.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
		t.Error("the renewed certificate was not saved")
	}
}

func TestRefusesKeysOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	managed(t, dir, time.Now())
	for _, f := range []string{CAKey, KeyFile} {
		path := filepath.Join(dir, f)
		os.Chmod(path, 0o640)
		_, err := Load(Config{DataDir: dir, Log: quiet})
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("%s mode 0640: err %v, want a refusal naming chmod 600", f, err)
		}
		os.Chmod(path, 0o600)
	}
}

func TestClusterCA(t *testing.T) {
	first := managed(t, t.TempDir(), time.Now())
	// A new replica without the CA files is told to copy them, and makes
	// no CA of its own.
	dir := t.TempDir()
	_, err := Load(Config{DataDir: dir, ClusterCA: first.CAPEM(), Log: quiet})
	if err == nil || !strings.Contains(err.Error(), "copy ca.crt and ca.key") {
		t.Errorf("replica without CA: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CAKey)); err == nil {
		t.Error("a replica made a CA of its own although the cluster has one")
	}
	// A replica with another CA is refused.
	if _, err := Load(Config{DataDir: t.TempDir(), ClusterCA: first.CAPEM(), Log: quiet}); err == nil {
		t.Error("accepted")
	}
	other := t.TempDir()
	managed(t, other, time.Now())
	if _, err := Load(Config{DataDir: other, ClusterCA: first.CAPEM(), Log: quiet}); err == nil || !strings.Contains(err.Error(), "not the cluster's") {
		t.Errorf("replica with another CA: %v", err)
	}
	// With the first replica's CA copied, it starts.
	copyDir := t.TempDir()
	for _, f := range []string{CAFile, CAKey} {
		data, _ := os.ReadFile(filepath.Join(first.cfg.DataDir, f))
		os.WriteFile(filepath.Join(copyDir, f), data, 0o600)
	}
	p, err := Load(Config{DataDir: copyDir, ClusterCA: first.CAPEM(), Log: quiet})
	if err != nil || p.CAHash() != first.CAHash() {
		t.Fatalf("replica with the copied CA: %v", err)
	}
}

func TestProvidedCertificate(t *testing.T) {
	// An operator's PKI, made here by a managed one.
	opDir := t.TempDir()
	op := managed(t, opDir, time.Now(), "parc.example.org")
	cert, key, ca := filepath.Join(opDir, CertFile), filepath.Join(opDir, KeyFile), filepath.Join(opDir, CAFile)

	p, err := Load(Config{CertFile: cert, KeyFile: key, CAFile: ca, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if p.Managed() || p.CAHash() != op.CAHash() {
		t.Errorf("provided: managed %v, hash %s, want %s", p.Managed(), p.CAHash(), op.CAHash())
	}
	if err := get(t, p, p.CAPEM(), "parc.example.org"); err != nil {
		t.Error(err)
	}
	// Without tls-ca the top of the chain is the CA.
	p2, err := Load(Config{CertFile: cert, KeyFile: key, Log: quiet})
	if err != nil || p2.CAHash() != op.CAHash() {
		t.Errorf("top of chain: %v %v", p2, err)
	}
	// A CA that did not sign the certificate is refused.
	stranger := managed(t, t.TempDir(), time.Now())
	if _, err := Load(Config{CertFile: cert, KeyFile: key, CAFile: filepath.Join(stranger.cfg.DataDir, CAFile), Log: quiet}); err == nil {
		t.Error("accepted a CA bundle that does not verify the certificate")
	}
	if _, err := Load(Config{CertFile: cert, Log: quiet}); err == nil {
		t.Error("accepted tls-cert without tls-key")
	}

	// The operator renews: the server picks it up without a restart.
	before := p.Certificate().Leaf.SerialNumber
	time.Sleep(10 * time.Millisecond) // a distinct mtime
	managed(t, opDir, time.Now(), "parc.example.org", "parc-new.example.org")
	if err := p.Refresh(); err != nil {
		t.Fatal(err)
	}
	if p.Certificate().Leaf.SerialNumber.Cmp(before) == 0 {
		t.Error("renewed files not reloaded")
	}
	os.Chmod(key, 0o644)
	os.Chtimes(key, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
	if err := p.Refresh(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("reload of a key others can read: %v", err)
	}
}

func TestCreateCAForACluster(t *testing.T) {
	dir := t.TempDir()
	ca, err := CreateCA(dir, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || mode(t, filepath.Join(dir, CAKey)) != 0o600 {
		t.Errorf("CA %v, key mode %v", ca.IsCA, mode(t, filepath.Join(dir, CAKey)))
	}
	if _, err := os.Stat(filepath.Join(dir, CertFile)); err == nil {
		t.Error("a server certificate was issued: each member issues its own")
	}
	if _, err := CreateCA(dir, nil, quiet); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second CreateCA in the same dir: %v", err)
	}
	// Members whose data dirs got copies of both files serve under it,
	// each with a certificate of its own.
	var hashes []string
	for range 2 {
		member := t.TempDir()
		for _, f := range []string{CAFile, CAKey} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(member, f), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		p := managed(t, member, time.Now())
		if err := get(t, p, p.CAPEM(), "127.0.0.1"); err != nil {
			t.Errorf("member: %v", err)
		}
		hashes = append(hashes, p.CAHash())
	}
	if want := agentapi.CAHash(ca); hashes[0] != want || hashes[1] != want {
		t.Errorf("CA hashes %v, want %s", hashes, want)
	}
}
