// Package server assembles parc-server: etcd (embedded or external), the
// caches, the agent and admin APIs, and their orderly start and stop.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/agent/agentapi"
	"github.com/parc-project/parc/configs"
	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/agents"
	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/cluster"
	"github.com/parc-project/parc/controlplane/config"
	"github.com/parc-project/parc/controlplane/continuity"
	"github.com/parc-project/parc/controlplane/defrag"
	"github.com/parc-project/parc/controlplane/etcdnode"
	"github.com/parc-project/parc/controlplane/httpapi"
	"github.com/parc-project/parc/controlplane/inventory"
	"github.com/parc-project/parc/controlplane/lastseen"
	"github.com/parc-project/parc/controlplane/loans"
	"github.com/parc-project/parc/controlplane/metrics"
	"github.com/parc-project/parc/controlplane/pki"
	"github.com/parc-project/parc/controlplane/placement"
	"github.com/parc-project/parc/controlplane/readiness"
	"github.com/parc-project/parc/controlplane/reconcile"
	"github.com/parc-project/parc/controlplane/retention"
	"github.com/parc-project/parc/controlplane/sitelink"
	"github.com/parc-project/parc/controlplane/store"
	"github.com/parc-project/parc/controlplane/tokenadmin"
	"github.com/parc-project/parc/controlplane/units"
	"github.com/parc-project/parc/controlplane/webui"
)

// Server is a running parc-server.
type Server struct {
	cfg  config.Config
	log  *slog.Logger
	now  func() time.Time
	node *etcdnode.Node

	Store    *store.Store
	Tokens   *auth.Tokens
	Registry *agents.Registry
	LastSeen *lastseen.Coalescer
	// Inventory is the declared inventory; Reconciler judges units.
	Inventory  *inventory.Inventory
	Reconciler *reconcile.Reconciler
	// SiteLinks mirrors every site's link state (SiteLinks()).
	SiteLinks *sitelink.Links
	// Loans is the loan book.
	Loans *loans.Book
	Audit *audit.Log
	// PKI is the TLS material; nil with --insecure-http.
	PKI *pki.PKI
	// Router lists every registered route (the role tests walk it).
	Router *httpapi.Router
	// Metrics is what GET /metrics serves.
	Metrics *metrics.Metrics

	handler http.Handler
	// bg runs caches; flush runs the last-seen coalescer, stopped only
	// after HTTP has drained so the final flush sees every heartbeat.
	bgCancel, flushCancel context.CancelFunc
	bg, flush             sync.WaitGroup
}

// New starts etcd and every background part, and prepares the HTTP handler.
// Serve starts answering; Close stops everything.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log, now: time.Now}
	rules, err := loadRules(cfg.ReadinessRules)
	if err != nil {
		return nil, err
	}
	node, err := etcdnode.Start(ctx, EtcdConfig(cfg), log)
	if err != nil {
		return nil, err
	}
	s.node = node
	s.Store = store.New(node.Client, cfg.Prefix)
	if cfg.InsecureHTTP {
		log.Warn("serving plain HTTP (--insecure-http): tokens, credentials and reports cross the network unencrypted; for local development only")
	} else if s.PKI, err = loadTLS(ctx, s.Store, cfg, s.now, log); err != nil {
		node.Close()
		return nil, err
	}

	s.Tokens = auth.NewTokens(s.Store, log, s.now)
	s.Registry = agents.NewRegistry(s.Store, log, s.now, cfg.AgentCredentialTTL)
	s.LastSeen = lastseen.New(s.Store, cfg.LastSeenFlush, log)
	s.Audit = audit.New(s.Store, s.now)
	reports := agents.NewReports(s.Store, cfg.ReceiptsKept)
	s.Inventory = inventory.New(s.Store, log, s.now)
	s.Inventory.Audit = s.Audit
	s.Reconciler = reconcile.New(s.Store, s.Inventory, s.Registry, rules,
		reconcile.Config{Name: replicaName(cfg), Resync: cfg.Resync, SessionTTL: cfg.ReconcileLease}, log, s.now)
	enrollTokens := auth.NewEnrollTokens(s.Store, s.now)
	s.Loans = loans.New(s.Store, s.Inventory, s.Reconciler.Statuses, s.Audit, log, s.now)
	needs := continuity.NewNeeds(s.Store, s.Audit, log, s.now)
	// Retention runs on the elected reconciler only (see package retention).
	retentionJob := &retention.Job{Period: cfg.RetentionPeriod, Interval: cfg.RetentionInterval, Now: s.now, Log: log,
		Sweepers: []retention.Sweeper{
			retention.Func("audit entries", s.Audit.DeleteBefore),
			retention.Func("report receipts", reports.DeleteReceiptsBefore),
			retention.Func("spent enroll tokens", enrollTokens.DeleteDoneBefore),
			retention.Func("borrower ids of closed loans", s.Loans.AnonymiseClosedBefore),
		}}
	s.Reconciler.OnLeadership(retentionJob.Run)
	// Site links are judged on the elected reconciler too (see package sitelink).
	s.SiteLinks = sitelink.NewLinks(s.Store, log)
	s.Reconciler.UseDarkSites(s.SiteLinks, s.SiteLinks.OnDarkChange)
	th := sitelink.Defaults
	th.Window, th.SilentAfter, th.MinAgents, th.Ratio = cfg.SiteDarkWindow, cfg.SiteSilentAfter, cfg.SiteDarkMinAgents, cfg.SiteDarkRatio
	s.Reconciler.OnLeadership((&sitelink.Monitor{Store: s.Store, Registry: s.Registry, Links: s.SiteLinks,
		Thresholds: th, Interval: cfg.SiteLinkInterval, Log: log, Now: s.now}).Run)
	cont := &continuity.Service{Inventory: s.Inventory, Reconciler: s.Reconciler, Loans: s.Loans, Needs: needs, Reports: reports, Log: log}
	s.Metrics = metrics.New(
		metrics.NewFleet(metrics.Fleet{Reconciler: s.Reconciler, Loans: s.Loans, Continuity: cont.Count, Now: s.now,
			Links: siteLinkStates(s.SiteLinks)}),
		metrics.NewEtcd(node.Client, etcdQuota(cfg)))
	s.Reconciler.ObservePasses(func(d time.Duration) { s.Metrics.Passes.Observe(d.Seconds()) })
	s.Reconciler.OnLeadership((&defrag.Job{Client: node.Client, Interval: defrag.DefaultInterval,
		MinFreeBytes: defrag.DefaultMinFreeBytes, MinFreeFraction: defrag.DefaultMinFreeFraction, Log: log}).Run)

	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	s.bgCancel = bgCancel
	s.goBackground(func() { s.Tokens.Cache().Run(bgCtx) })
	s.goBackground(func() { s.Registry.Cache().Run(bgCtx) })
	s.goBackground(func() { s.Inventory.Run(bgCtx) })
	s.goBackground(func() { s.Reconciler.Run(bgCtx) })
	s.goBackground(func() { s.Loans.Run(bgCtx) })
	s.goBackground(func() { s.SiteLinks.Run(bgCtx) })
	s.goBackground(func() { needs.Cache.Run(bgCtx) })
	s.goBackground(func() { s.recoverImports(bgCtx) })
	if s.PKI != nil {
		s.goBackground(func() { s.PKI.Run(bgCtx, certRefreshInterval) })
	}
	flushCtx, flushCancel := context.WithCancel(context.WithoutCancel(ctx))
	s.flushCancel = flushCancel
	s.flush.Add(1)
	go func() { defer s.flush.Done(); s.LastSeen.Run(flushCtx, cfg.ShutdownGrace) }()

	readyCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, wait := range []func(context.Context) error{s.Tokens.Cache().WaitReady, s.Registry.Cache().WaitReady,
		s.Inventory.WaitReady, s.Reconciler.WaitReady, s.Loans.WaitReady, needs.Cache.WaitReady, s.SiteLinks.WaitReady} {
		if err := wait(readyCtx); err != nil {
			s.Close()
			return nil, fmt.Errorf("loading state from etcd: %w", err)
		}
	}
	path, err := s.Tokens.Bootstrap(ctx, cfg.DataDir)
	if err != nil {
		s.Close()
		return nil, err
	}
	if path != "" {
		log.Info("first start: admin token written (readable by this user only); use it with parcctl --token-file or PARC_TOKEN", "file", path)
	}

	mux := http.NewServeMux()
	s.Router = httpapi.NewRouter(mux, &auth.Authenticator{Users: s.Tokens, Agents: s.Registry}, log)
	s.Router.Limits = httpapi.Limits{
		Agent: httpapi.NewRateLimiter(cfg.AgentRate, cfg.AgentBurst, s.now),
		User:  httpapi.NewRateLimiter(cfg.UserRate, cfg.UserBurst, s.now),
	}
	s.Router.Public("GET /healthz", s.healthz)
	s.Router.Public("GET /readyz", s.readyz)
	s.registerMetrics()
	var caBundle []byte
	var caHash string
	if s.PKI != nil {
		caBundle, caHash = s.PKI.CAPEM(), s.PKI.CAHash()
	}
	(&agents.Service{
		Store: s.Store, Registry: s.Registry, Reports: reports, EnrollTokens: enrollTokens,
		LastSeen: s.LastSeen, Audit: s.Audit, CABundle: caBundle, Now: s.now, Log: log,
		Policy:   agentapi.Policy{CheckinIntervalSeconds: int(cfg.AgentCheckinInterval.Seconds())},
		Observer: s.Metrics.Checkins,
	}).Register(s.Router)
	agents.NewSpeedtest(s.now).Register(s.Router)
	unitsSvc := &units.Service{Store: s.Store, Registry: s.Registry, Reports: reports, LastSeen: s.LastSeen,
		Inventory: s.Inventory, Reconciler: s.Reconciler, Log: log}
	unitsSvc.Register(s.Router)
	(&inventory.Service{Inventory: s.Inventory, Log: log}).Register(s.Router)
	(&tokenadmin.Service{EnrollTokens: enrollTokens, Tokens: s.Tokens, Registry: s.Registry, Audit: s.Audit, CAHash: caHash}).Register(s.Router)
	(&audit.Service{Log: s.Audit}).Register(s.Router)
	(&loans.Service{Book: s.Loans, Audit: s.Audit, Log: log}).Register(s.Router)
	cont.Register(s.Router)
	(&sitelink.Service{Links: s.SiteLinks}).Register(s.Router)
	placementSvc := &placement.Service{Inventory: s.Inventory, Reconciler: s.Reconciler, Loans: s.Loans, Reports: reports}
	placementSvc.Register(s.Router)
	members := &cluster.Cluster{Client: node.Client, Embedded: node.Embedded(), Replica: replicaName(cfg), MemberID: node.MemberID(),
		Root: s.Store.Root(), ReconcilerLeader: s.Reconciler.Leader, Log: log}
	s.goBackground(func() { members.Run(bgCtx) })
	(&cluster.Service{Audit: s.Audit, Cluster: members}).Register(s.Router)
	ui := &webui.UI{Sessions: &webui.Sessions{Store: s.Store, Tokens: s.Tokens, TTL: webui.DefaultSessionTTL, Now: s.now},
		Inventory: s.Inventory, Units: unitsSvc, Continuity: cont, Placement: placementSvc, Loans: s.Loans,
		Audit: s.Audit, Limit: s.Router.Limits.User, TLS: s.PKI != nil, Log: log.With("part", "webui"), Now: s.now}
	if err := ui.Register(mux); err != nil {
		s.Close()
		return nil, err
	}
	s.handler = mux
	return s, nil
}

// registerMetrics serves GET /metrics: to a user token whose role reads
// the fleet (viewer is enough), or to anyone with --metrics-open.
func (s *Server) registerMetrics() {
	h := s.Metrics.Handler()
	serve := func(w http.ResponseWriter, r *http.Request) error { h.ServeHTTP(w, r); return nil }
	if s.cfg.MetricsOpen {
		s.Router.Public("GET /metrics", serve)
		return
	}
	s.Router.User("GET /metrics", auth.PermFleetRead, serve)
}

// etcdQuota is the backend quota of the embedded member, 0 for an
// external etcd.
func etcdQuota(cfg config.Config) int64 {
	switch {
	case len(cfg.EtcdEndpoints) > 0:
		return 0
	case cfg.EtcdQuotaBytes > 0:
		return cfg.EtcdQuotaBytes
	}
	return 2 << 30 // etcd's default
}

// siteLinkStates gives the metrics every site's link: up unless the site
// is dark (degraded and unknown links still carry, or may).
func siteLinkStates(l *sitelink.Links) metrics.LinkStates {
	return metrics.LinkStatesFunc(func() []metrics.SiteLink {
		links := l.SiteLinks()
		out := make([]metrics.SiteLink, len(links))
		for i, v := range links {
			out[i] = metrics.SiteLink{Site: v.Site, Up: v.State != adminapi.LinkDown}
		}
		return out
	})
}

func loadRules(path string) (*readiness.Rules, error) {
	if path == "" {
		r, err := readiness.Parse(bytes.NewReader(configs.Readiness))
		if err != nil {
			return nil, fmt.Errorf("built-in readiness rules: %w", err)
		}
		return r, nil
	}
	return readiness.Load(path)
}

func replicaName(cfg config.Config) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	host, _ := os.Hostname()
	return host + "/" + cfg.Listen
}

// importRecoveryInterval is how often each replica checks for an import
// whose importer died; imports count as dead after two minutes without a
// heartbeat, so checking every 30 s finishes them soon after.
const importRecoveryInterval = 30 * time.Second

func (s *Server) recoverImports(ctx context.Context) {
	for {
		if err := s.Inventory.Recover(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("checking for an unfinished inventory import", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(importRecoveryInterval):
		}
	}
}

func (s *Server) goBackground(fn func()) {
	s.bg.Add(1)
	go func() { defer s.bg.Done(); fn() }()
}

// Handler is the HTTP handler of every API.
func (s *Server) Handler() http.Handler { return s.handler }

// EtcdErr reports a fatal error of the embedded etcd member.
func (s *Server) EtcdErr() <-chan error { return s.node.Err() }

// certRefreshInterval is how often the server checks whether its
// certificate is due for renewal (managed) or was replaced on disk
// (provided).
const certRefreshInterval = 6 * time.Hour

// loadTLS loads or makes the TLS material and makes sure every replica
// serves under the same CA, the one agents pin: the first replica
// publishes its CA certificate (never its key) in etcd; the others must
// hold the same.
func loadTLS(ctx context.Context, st *store.Store, cfg config.Config, now func() time.Time, log *slog.Logger) (*pki.PKI, error) {
	key := st.Root() + caKey
	cluster, _, err := st.GetRaw(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading the cluster's CA: %w", err)
	}
	p, err := pki.Load(pki.Config{DataDir: cfg.DataDir, CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey, CAFile: cfg.TLSCA,
		Hosts: tlsHosts(cfg), ClusterCA: cluster, Now: now, Log: log})
	if err != nil {
		return nil, err
	}
	if cluster == nil {
		resp, err := st.Client.Txn(ctx).If(clientv3.Compare(clientv3.Version(key), "=", 0)).
			Then(clientv3.OpPut(key, string(p.CAPEM()))).Commit()
		if err != nil {
			return nil, fmt.Errorf("publishing the CA: %w", err)
		}
		if !resp.Succeeded {
			// Members of a new cluster start together: another published
			// first, which is fine if it is the same CA (copied by the
			// operator from parc-server init-ca).
			if cluster, _, err = st.GetRaw(ctx, key); err != nil {
				return nil, fmt.Errorf("reading the CA another replica published: %w", err)
			}
			if !bytes.Equal(bytes.TrimSpace(cluster), bytes.TrimSpace(p.CAPEM())) {
				return nil, fmt.Errorf("another replica published a different CA while this one started: agents pinned to it would refuse this one. Give every member the same %s and %s (parc-server init-ca makes them), then start again", pki.CAFile, pki.CAKey)
			}
		}
	}
	ca, cert, _ := p.Files()
	log.Info("serving HTTPS", "ca", ca, "ca_hash", p.CAHash(), "certificate", cert, "managed", p.Managed())
	return p, nil
}

// caKey holds the cluster's CA certificate, under the store's root.
const caKey = "meta/ca"

// tlsHosts are the names the managed certificate must cover: the
// configured ones and the listen address when it names one host.
func tlsHosts(cfg config.Config) []string {
	hosts := slices.Clone(cfg.TLSHosts)
	if h, _, err := net.SplitHostPort(cfg.Listen); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// Run is a whole parc-server's life: listen on cfg.Listen, start, serve
// until ctx ends, close. beforeClose, when set, runs after serving stopped
// and before the state is let go (parc-bench takes a heap profile there).
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, beforeClose func()) error {
	// Listen before starting etcd: a port already taken is the most common
	// start-up mistake and should not cost an etcd start.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	srv, err := New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	serveErr := srv.Serve(ctx, ln)
	if beforeClose != nil {
		beforeClose()
	}
	if err := srv.Close(); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("closing: %w", err)
	}
	return serveErr
}

// Serve answers HTTPS (HTTP with --insecure-http) on ln until ctx ends,
// then stops accepting, lets requests in flight finish within the shutdown
// grace, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	scheme := "http"
	if s.PKI != nil {
		scheme = "https"
		srv.TLSConfig = s.PKI.TLSConfig()
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	s.log.Info("parc-server listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP: %w", err)
	case err := <-s.EtcdErr():
		srv.Close()
		return fmt.Errorf("embedded etcd failed: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight", "grace", s.cfg.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutting down HTTP: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close flushes last-seen times, stops the background work and closes etcd.
func (s *Server) Close() error {
	s.flushCancel()
	s.flush.Wait()
	s.bgCancel()
	s.bg.Wait()
	return s.node.Close()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyTimeout bounds the etcd round trip of /readyz: a load balancer
// asking must get an answer even when etcd has lost its quorum.
const readyTimeout = 2 * time.Second

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	// A linearizable read needs the etcd leader and a quorum: exactly
	// what writes need.
	if _, err := s.Store.Client.Get(ctx, s.Store.Root()+"meta/ready"); err != nil {
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Msg: "not ready", Detail: "etcd does not answer: " + err.Error()}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
