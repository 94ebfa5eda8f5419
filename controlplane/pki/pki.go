// Package pki gives parc-server its TLS. On the first start it makes a
// private CA and a server certificate in the data dir; or it serves a
// certificate and key it is given. Either way it knows the CA bundle that
// agents pin (their enroll token carries its hash), keeps the server
// certificate fresh while running, and refuses private keys that anyone but
// their owner can read.
package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/agent/durable"
)

// Files in the data dir, when parc-server manages its own CA.
const (
	CAFile   = "ca.crt"
	CAKey    = "ca.key"
	CertFile = "server.crt"
	KeyFile  = "server.key"
)

// Lifetimes. The CA lives long because every agent pins it: replacing it
// means enrolling the fleet again. The server certificate is short-lived
// and renewed by the server itself, invisibly to agents, which trust the CA.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	certValidity = 365 * 24 * time.Hour
	// renewBefore: a certificate with less than a third of its life left is
	// renewed (at start, or by Run while serving).
	renewBefore = certValidity / 3
	// backdate covers clocks of clients a little behind the server's.
	backdate = time.Hour
)

// Config says where the TLS material is, or where to make it.
type Config struct {
	// DataDir holds the managed CA and server certificate.
	DataDir string
	// CertFile and KeyFile are a certificate (chain) and key to serve
	// instead of managed ones; both or neither.
	CertFile, KeyFile string
	// CAFile is the CA bundle agents pin when CertFile is given; empty
	// means the last certificate of CertFile's chain.
	CAFile string
	// Hosts are names and IP addresses the managed server certificate is
	// valid for, besides localhost, 127.0.0.1, ::1 and this machine's name.
	Hosts []string
	// ClusterCA is the CA certificate (PEM) other replicas already use, as
	// published in etcd; nil when this is the first replica. A managed
	// replica without a CA of its own refuses to make one then: agents
	// pinned to the cluster's CA would refuse it.
	ClusterCA []byte
	Now       func() time.Time
	Log       *slog.Logger
}

// PKI is the server's TLS material.
type PKI struct {
	cfg     Config
	managed bool
	caPEM   []byte
	caHash  string
	caCert  *x509.Certificate
	caKey   crypto.Signer // managed only

	mu      sync.RWMutex
	cert    *tls.Certificate
	certMod time.Time // provided only: CertFile's mtime when loaded
	keyMod  time.Time
}

// Load reads, or makes on first start, the TLS material cfg describes.
func Load(cfg Config) (*PKI, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("tls-cert and tls-key go together: give both, or neither to let parc-server manage its own CA")
	}
	p := &PKI{cfg: cfg, managed: cfg.CertFile == ""}
	var err error
	if p.managed {
		err = p.loadManaged()
	} else {
		err = p.loadProvided()
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CAPEM is the CA bundle served at agentapi.PathCA.
func (p *PKI) CAPEM() []byte { return p.caPEM }

// CAHash is the hash enroll tokens carry (agentapi.CAHash of the bundle's
// first certificate).
func (p *PKI) CAHash() string { return p.caHash }

// Managed reports whether parc-server made its own CA.
func (p *PKI) Managed() bool { return p.managed }

// Certificate returns the server certificate being served.
func (p *PKI) Certificate() *tls.Certificate {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cert
}

// TLSConfig is the server side of TLS: the current certificate on every
// handshake, so a renewal needs no restart.
func (p *PKI) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return p.Certificate(), nil
		},
	}
}

// Files names the files holding the CA bundle and the server certificate
// and key, for the start-up log.
func (p *PKI) Files() (ca, cert, key string) {
	if p.managed {
		return p.path(CAFile), p.path(CertFile), p.path(KeyFile)
	}
	return p.cfg.CAFile, p.cfg.CertFile, p.cfg.KeyFile
}

func (p *PKI) path(name string) string { return filepath.Join(p.cfg.DataDir, name) }

// loadManaged loads the managed CA, making it on first start, then the
// server certificate, issuing it when missing, stale or short of a name.
func (p *PKI) loadManaged() error {
	if err := os.MkdirAll(p.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	caPath, keyPath := p.path(CAFile), p.path(CAKey)
	_, errCert := os.Stat(caPath)
	_, errKey := os.Stat(keyPath)
	switch {
	case errors.Is(errCert, os.ErrNotExist) && errors.Is(errKey, os.ErrNotExist):
		if p.cfg.ClusterCA != nil {
			return fmt.Errorf("no CA in %s, but the cluster already has one (its agents pin it): copy %s and %s from the data dir of the first replica into %s, then start again",
				p.cfg.DataDir, CAFile, CAKey, p.cfg.DataDir)
		}
		if err := p.createCA(); err != nil {
			return err
		}
	case errCert != nil || errKey != nil:
		return fmt.Errorf("CA incomplete in %s: want both %s and %s (%v, %v)", p.cfg.DataDir, CAFile, CAKey, errCert, errKey)
	}
	cert, key, err := loadPair(caPath, keyPath)
	if err != nil {
		return fmt.Errorf("loading the CA: %w", err)
	}
	if !cert.IsCA {
		return fmt.Errorf("%s is not a CA certificate", caPath)
	}
	p.caCert, p.caKey = cert, key
	p.caPEM = pemCert(cert.Raw)
	p.caHash = agentapi.CAHash(cert)
	if p.cfg.ClusterCA != nil && !bytes.Equal(bytes.TrimSpace(p.cfg.ClusterCA), bytes.TrimSpace(p.caPEM)) {
		return fmt.Errorf("the CA in %s (%s) is not the cluster's: agents pinned to the cluster's CA would refuse this replica. Copy %s and %s from the first replica's data dir, and remove %s and %s, then start again",
			caPath, p.caHash, CAFile, CAKey, CertFile, KeyFile)
	}
	if until := cert.NotAfter.Sub(p.cfg.Now()); until < renewBefore {
		p.cfg.Log.Warn("the CA expires soon; agents pin it and must enroll again under a new CA before then", "expires", cert.NotAfter, "file", caPath)
	}
	return p.renewManaged(true)
}

// renewManaged issues a new server certificate when the one on disk is
// missing, expiring, not from the CA or not valid for every wanted name;
// otherwise it loads it (when load is set, or nothing is loaded yet).
func (p *PKI) renewManaged(load bool) error {
	certPath, keyPath := p.path(CertFile), p.path(KeyFile)
	var why string
	cert, key, err := loadPair(certPath, keyPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		why = "none yet"
	case errors.Is(err, errKeyMode):
		return err // never paper over a key others can read
	case err != nil:
		return fmt.Errorf("loading the server certificate (remove %s and %s to have a new one issued): %w", certPath, keyPath, err)
	default:
		why = p.staleReason(cert)
	}
	if why == "" {
		if load || p.Certificate() == nil {
			p.setCert(&tls.Certificate{Certificate: [][]byte{cert.Raw, p.caCert.Raw}, PrivateKey: key, Leaf: cert})
		}
		return nil
	}
	issued, err := p.issue(certPath, keyPath)
	if err != nil {
		return err
	}
	p.setCert(issued)
	p.cfg.Log.Info("server certificate issued", "why", why, "names", p.names(), "expires", issued.Leaf.NotAfter, "file", certPath)
	return nil
}

// staleReason says why a managed server certificate must be replaced, ""
// when it need not.
func (p *PKI) staleReason(cert *x509.Certificate) string {
	if cert.NotAfter.Sub(p.cfg.Now()) < renewBefore {
		return fmt.Sprintf("expires %s", cert.NotAfter.Format(time.DateOnly))
	}
	if err := cert.CheckSignatureFrom(p.caCert); err != nil {
		return "not signed by the CA in the data dir"
	}
	for _, h := range p.names() {
		if cert.VerifyHostname(h) != nil {
			return fmt.Sprintf("not valid for %s", h)
		}
	}
	return ""
}

// names lists what the server certificate must be valid for.
func (p *PKI) names() []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, strings.ToLower(h))
	}
	for _, h := range p.cfg.Hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// CreateCA makes a CA in dataDir (CAFile and CAKey) and nothing else, for
// an embedded cluster: the operator copies both files into the data dir of
// every member before their first start, so that all serve under the one
// CA agents pin. It refuses to replace a CA already there.
func CreateCA(dataDir string, now func() time.Time, log *slog.Logger) (*x509.Certificate, error) {
	if now == nil {
		now = time.Now
	}
	p := &PKI{cfg: Config{DataDir: dataDir, Now: now, Log: log}, managed: true}
	for _, name := range []string{CAFile, CAKey} {
		if _, err := os.Stat(p.path(name)); !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s already exists: agents may pin that CA; remove it first only if no agent enrolled under it", p.path(name))
		}
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if err := p.createCA(); err != nil {
		return nil, err
	}
	cert, _, err := loadPair(p.path(CAFile), p.path(CAKey))
	return cert, err
}

func (p *PKI) createCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("making the CA key: %w", err)
	}
	now := p.cfg.Now()
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"parc"}, CommonName: "parc CA " + host + " " + now.UTC().Format(time.DateOnly)},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("making the CA certificate: %w", err)
	}
	// The key first: a certificate without its key is useless, a key
	// without its certificate is found and reported at the next start.
	if err := writeKey(p.path(CAKey), key); err != nil {
		return err
	}
	if err := durable.WriteFile(p.path(CAFile), pemCert(der), 0o644); err != nil {
		return err
	}
	p.cfg.Log.Info("first start: CA created; agents pin it through their enroll tokens", "file", p.path(CAFile))
	return nil
}

func (p *PKI) issue(certPath, keyPath string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making the server key: %w", err)
	}
	now := p.cfg.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"parc"}, CommonName: "parc-server"},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range p.names() {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		return nil, fmt.Errorf("issuing the server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, err
	}
	if err := durable.WriteFile(certPath, pemCert(der, p.caCert.Raw), 0o644); err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, p.caCert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// loadProvided loads an operator's certificate and key, and the CA bundle
// to publish.
func (p *PKI) loadProvided() error {
	if err := p.reloadProvided(); err != nil {
		return err
	}
	chain := p.cert.Certificate
	var bundle []byte
	if p.cfg.CAFile != "" {
		data, err := os.ReadFile(p.cfg.CAFile)
		if err != nil {
			return fmt.Errorf("reading tls-ca: %w", err)
		}
		if _, err := agentapi.ParseCertificates(data); err != nil {
			return fmt.Errorf("tls-ca %s: %w", p.cfg.CAFile, err)
		}
		bundle = data
	} else {
		// The top of the chain: the issuing CA when the file holds the
		// chain, the certificate itself when it holds only the leaf.
		bundle = pemCert(chain[len(chain)-1])
	}
	certs, err := agentapi.ParseCertificates(bundle)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	inter := x509.NewCertPool()
	for _, der := range chain[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := p.cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: p.cfg.Now()}); err != nil {
		return fmt.Errorf("tls-cert %s does not verify against the CA bundle agents would pin (tls-ca): %w", p.cfg.CertFile, err)
	}
	p.caCert, p.caPEM, p.caHash = certs[0], bundle, agentapi.CAHash(certs[0])
	if p.cfg.ClusterCA != nil && !bytes.Equal(bytes.TrimSpace(p.cfg.ClusterCA), bytes.TrimSpace(p.caPEM)) {
		return fmt.Errorf("the CA bundle of this replica (%s) is not the cluster's: agents pinned to the cluster's CA would refuse it; give every replica the same tls-ca", p.caHash)
	}
	return nil
}

// reloadProvided (re)reads the operator's certificate and key when either
// file changed since the last load, so a renewal by an outside tool
// (certbot, cert-manager) needs no restart.
func (p *PKI) reloadProvided() error {
	ci, err := os.Stat(p.cfg.CertFile)
	if err != nil {
		return fmt.Errorf("tls-cert: %w", err)
	}
	ki, err := os.Stat(p.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("tls-key: %w", err)
	}
	p.mu.RLock()
	same := p.cert != nil && ci.ModTime().Equal(p.certMod) && ki.ModTime().Equal(p.keyMod)
	p.mu.RUnlock()
	if same {
		return nil
	}
	if err := checkKeyMode(p.cfg.KeyFile); err != nil {
		return err
	}
	pair, err := tls.LoadX509KeyPair(p.cfg.CertFile, p.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("loading tls-cert and tls-key: %w", err)
	}
	p.mu.Lock()
	p.cert, p.certMod, p.keyMod = &pair, ci.ModTime(), ki.ModTime()
	p.mu.Unlock()
	return nil
}

func (p *PKI) setCert(c *tls.Certificate) {
	p.mu.Lock()
	p.cert = c
	p.mu.Unlock()
}

// Refresh renews the managed server certificate when due, or reloads the
// provided one when its files changed. The server calls it periodically
// (Run); on error the certificate being served stays.
func (p *PKI) Refresh() error {
	if p.managed {
		return p.renewManaged(false)
	}
	return p.reloadProvided()
}

// Run calls Refresh every interval until ctx ends, logging failures: a
// server running for more than a year renews its own certificate.
func (p *PKI) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Refresh(); err != nil {
				p.cfg.Log.Error("refreshing the server certificate failed; still serving the current one", "err", err)
			}
		}
	}
}

// errKeyMode marks a private key that others than its owner can read.
var errKeyMode = errors.New("private key readable by others")

// checkKeyMode refuses a key file that group or others may read or write.
// Windows has no such mode bits; its ACLs are the administrator's business.
func checkKeyMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", errKeyMode, path, perm, path)
	}
	return nil
}

// loadPair reads a PEM certificate (the first of the file) and its key.
func loadPair(certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	if err := checkKeyMode(keyPath); err != nil {
		return nil, nil, err
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: unsupported key type %T", keyPath, pair.PrivateKey)
	}
	return pair.Leaf, signer, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return durable.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func pemCert(ders ...[]byte) []byte {
	var b bytes.Buffer
	for _, der := range ders {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der}) // writing to memory
	}
	return b.Bytes()
}

// serial returns a random 128-bit serial number, as RFC 5280 wants them
// unpredictable.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return n
}
