package agents

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/servertest"
	"github.com/parc-project/parc/controlplane/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servertest.Cleanup()
	os.Exit(code)
}

const ttl = 90 * 24 * time.Hour

// newRegistry returns a registry on a fresh etcd whose clock the test
// moves, with one agent enrolled at the clock's start.
func newRegistry(t *testing.T) (*Registry, *time.Time, auth.Credential) {
	t.Helper()
	s := store.New(servertest.Client(t, servertest.StartEtcd(t).Endpoint), "/t")
	now := time.Unix(1_800_000_000, 0).UTC()
	r := NewRegistry(s, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now }, ttl)
	cred, hash := auth.NewCredential(auth.KindAgent)
	a := Agent{ID: cred.ID, Hash: hash, Hostname: "lp-01", EnrolledAt: now, ExpiresAt: r.NewCredentialExpiry()}
	if err := s.Create(context.Background(), s.Key(store.KindAgents, a.ID), a); err != nil {
		t.Fatal(err)
	}
	return r, &now, cred
}

func authOK(t *testing.T, r *Registry, c auth.Credential) error {
	t.Helper()
	_, err := r.AuthenticateAgent(context.Background(), c)
	return err
}

func TestCredentialExpiresAndRotationIsDueInItsLastThird(t *testing.T) {
	r, now, cred := newRegistry(t)
	ctx := context.Background()
	a, _ := r.Get(ctx, cred.ID)
	if err := authOK(t, r, cred); err != nil || r.RotationDue(a) {
		t.Fatalf("fresh credential: %v, rotation due %v", err, r.RotationDue(a))
	}
	*now = now.Add(ttl * 2 / 3).Add(time.Second)
	if !r.RotationDue(a) {
		t.Error("not due in the last third")
	}
	*now = a.ExpiresAt
	err := authOK(t, r, cred)
	if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired credential: %v", err)
	}
	if _, _, err := r.Rotate(ctx, cred.ID); err == nil {
		t.Error("an expired credential was rotated")
	}
	wrong := cred
	wrong.Secret = strings.Repeat("x", len(cred.Secret))
	if err := authOK(t, r, wrong); err == nil || strings.Contains(err.Error(), "expired") {
		t.Errorf("wrong secret: %v; want refused without saying why", err)
	}
}

func TestRotationNeverLocksOut(t *testing.T) {
	r, now, old := newRegistry(t)
	ctx := context.Background()
	*now = now.Add(ttl * 3 / 4)

	next, expires, err := r.Rotate(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID != old.ID || next.Secret == old.Secret || !expires.Equal(now.Add(ttl)) {
		t.Errorf("rotated credential %+v expiring %v", next, expires)
	}
	// Until confirmed, the old credential works and the new one does not
	// (it only confirms): an agent that crashed before saving the new one
	// carries on with the old.
	if err := authOK(t, r, old); err != nil {
		t.Errorf("old credential before confirmation: %v", err)
	}
	if err := authOK(t, r, next); err == nil {
		t.Error("unconfirmed credential authenticates")
	}
	// A second rotation (the first answer was lost) replaces the pending one.
	lost := next
	next, _, err = r.Rotate(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Confirm(ctx, lost); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("confirming a replaced rotation: %v", err)
	}
	got, err := r.Confirm(ctx, next)
	if err != nil || !got.Equal(now.Add(ttl)) {
		t.Fatalf("confirm: %v %v", got, err)
	}
	if err := authOK(t, r, next); err != nil {
		t.Errorf("confirmed credential: %v", err)
	}
	if err := authOK(t, r, old); err == nil {
		t.Error("old credential still works after the confirmation")
	}
	// The agent crashed before saving the confirmation: it confirms again.
	if _, err := r.Confirm(ctx, next); err != nil {
		t.Errorf("confirming again: %v", err)
	}
	a, _ := r.Get(ctx, old.ID)
	if r.RotationDue(a) || a.NextHash != "" || !a.RotatedAt.Equal(*now) {
		t.Errorf("after rotation: due %v, pending %q, rotated %v", r.RotationDue(a), a.NextHash, a.RotatedAt)
	}
	// An administrator asks for a rotation: due at once, cleared by it.
	a, err = r.RequestRotation(ctx, old.ID, nil)
	if err != nil || !r.RotationDue(a) {
		t.Fatalf("requested rotation: %v due %v", err, r.RotationDue(a))
	}
	third, _, _ := r.Rotate(ctx, old.ID)
	r.Confirm(ctx, third)
	if a, _ := r.Get(ctx, old.ID); r.RotationDue(a) {
		t.Error("requested rotation still due after rotating")
	}
}

func TestRevocation(t *testing.T) {
	r, _, cred := newRegistry(t)
	ctx := context.Background()
	pending, _, err := r.Rotate(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	var before, after Agent
	a, err := r.Revoke(ctx, cred.ID, "user:x (admin)", "stolen", func(b, a Agent) (clientv3.Op, error) {
		before, after = b, a
		return clientv3.OpPut("/t/v1/audit-probe", "x"), nil
	})
	if err != nil || !a.Revoked || a.RevokeReason != "stolen" || before.Revoked || !after.Revoked {
		t.Fatalf("revoke: %+v %v (before %v after %v)", a, err, before.Revoked, after.Revoked)
	}
	err = authOK(t, r, cred)
	if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked credential: %v", err)
	}
	if _, err := r.Confirm(ctx, pending); err == nil {
		t.Error("a rotation pending at revocation was confirmed")
	}
	if _, _, err := r.Rotate(ctx, cred.ID); err == nil {
		t.Error("a revoked agent rotated")
	}
	if _, err := r.RequestRotation(ctx, cred.ID, nil); err == nil {
		t.Error("rotation requested for a revoked agent")
	}
	// Revoking again changes nothing and records nothing.
	called := false
	if _, err := r.Revoke(ctx, cred.ID, "someone", "again", func(Agent, Agent) (clientv3.Op, error) {
		called = true
		return clientv3.OpPut("/t/v1/audit-probe", "x"), nil
	}); err != nil || called {
		t.Errorf("second revocation: %v, audited %v", err, called)
	}
}
