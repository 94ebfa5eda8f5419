package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/store"
)

// ErrImportInProgress is returned for a write attempted while an import is
// being applied.
var ErrImportInProgress = errors.New("an inventory import is in progress")

// ValidationError lists why a write was refused.
type ValidationError struct{ Problems []string }

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid: %v", e.Problems)
}

// Inventory reads and writes the declared inventory. Reads for the API and
// the reconciler come from list+watch caches; writes are validated against
// a snapshot and serialised through the generation key.
type Inventory struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time

	Sites      *store.Cache[Site]
	Classrooms *store.Cache[Classroom]
	Carts      *store.Cache[Cart]
	Units      *store.Cache[Unit]

	// Audit, when set, records every write in the same transaction.
	Audit *audit.Log

	mu   sync.Mutex // one write at a time from this replica
	snap *Snapshot  // the last snapshot read or written, reused while current
}

// auditOps returns the audit entry of a change as ops of its transaction.
func (inv *Inventory) auditOps(ctx context.Context, action, object, site string, before, after any) ([]clientv3.Op, error) {
	if inv.Audit == nil {
		return nil, nil
	}
	e := audit.Entry{Action: action, Object: object, Site: site}
	if before != nil {
		e.Before = audit.Snapshot(before)
	}
	if after != nil {
		e.After = audit.Snapshot(after)
	}
	op, err := inv.Audit.Op(ctx, e)
	if err != nil {
		return nil, err
	}
	return []clientv3.Op{op}, nil
}

// withAudit appends the audit entry of putting v of kind what (old is the
// record it replaces, if any).
func withAudit[T any](ctx context.Context, inv *Inventory, ops []clientv3.Op, what, id, site string, old T, existed bool, v T) ([]clientv3.Op, error) {
	action := what + ".create"
	var before any
	if existed {
		action, before = what+".update", old
	}
	a, err := inv.auditOps(ctx, action, what+"/"+id, site, before, v)
	return append(ops, a...), err
}

// New returns the inventory; run its caches with Run.
func New(s *store.Store, log *slog.Logger, now func() time.Time) *Inventory {
	return &Inventory{
		store: s, log: log, now: now,
		Sites:      store.NewCache[Site](s, store.KindSites, log),
		Classrooms: store.NewCache[Classroom](s, store.KindClassrooms, log),
		Carts:      store.NewCache[Cart](s, store.KindCarts, log),
		Units:      store.NewCache[Unit](s, store.KindDeclared, log),
	}
}

// Run keeps the caches in step with etcd until ctx ends.
func (inv *Inventory) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){inv.Sites.Run, inv.Classrooms.Run, inv.Carts.Run, inv.Units.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	wg.Wait()
}

// WaitReady waits for every cache's first list.
func (inv *Inventory) WaitReady(ctx context.Context) error {
	return errors.Join(inv.Sites.WaitReady(ctx), inv.Classrooms.WaitReady(ctx), inv.Carts.WaitReady(ctx), inv.Units.WaitReady(ctx))
}

func (inv *Inventory) genKey() string    { return inv.store.Root() + "meta/inventory-gen" }
func (inv *Inventory) activeKey() string { return inv.store.Key(store.KindImports, "active") }

// Snapshot returns the inventory as it is now, read from etcd unless the
// last snapshot is still current.
func (inv *Inventory) Snapshot(ctx context.Context) (*Snapshot, error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.snapshotLocked(ctx)
}

func (inv *Inventory) snapshotLocked(ctx context.Context) (*Snapshot, error) {
	resp, err := inv.store.Client.Get(ctx, inv.genKey())
	if err != nil {
		return nil, fmt.Errorf("reading inventory generation: %w", err)
	}
	var genRev int64
	if len(resp.Kvs) > 0 {
		genRev = resp.Kvs[0].ModRevision
	}
	if inv.snap != nil && inv.snap.GenRev == genRev && genRev != 0 {
		return inv.snap, nil
	}
	snap := newSnapshot()
	snap.GenRev = genRev
	rev := resp.Header.Revision
	load := func(kind string, put func(id string, data []byte) error) error {
		return inv.store.ListAt(ctx, inv.store.Prefix(kind), rev, func(kv store.KV) error {
			return put(inv.store.IDFromKey(kind, kv.Key), kv.Value)
		})
	}
	err = errors.Join(
		load(store.KindSites, func(id string, d []byte) error { return decodeInto(d, snap.Sites, id) }),
		load(store.KindClassrooms, func(id string, d []byte) error { return decodeInto(d, snap.Classrooms, id) }),
		load(store.KindCarts, func(id string, d []byte) error { return decodeInto(d, snap.Carts, id) }),
		load(store.KindDeclared, func(id string, d []byte) error { return decodeInto(d, snap.Units, id) }),
	)
	if err != nil {
		return nil, fmt.Errorf("reading the inventory: %w", err)
	}
	inv.snap = snap
	return snap, nil
}

func decodeInto[T any](data []byte, m map[string]T, id string) error {
	var v T
	if err := store.Decode(data, &v); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	m[id] = v
	return nil
}

// writeAttempts bounds retries when another inventory write won the race.
const writeAttempts = 5

// write runs plan against a current snapshot and commits the operations
// it returns, only if no other inventory write happened meanwhile and no
// import is active; plan runs again on a fresh snapshot otherwise. plan
// returns the ops and a function applying the same change to the snapshot.
func (inv *Inventory) write(ctx context.Context, plan func(*Snapshot) ([]clientv3.Op, func(*Snapshot), error)) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for range writeAttempts {
		snap, err := inv.snapshotLocked(ctx)
		if err != nil {
			return err
		}
		ops, apply, err := plan(snap)
		if err != nil {
			return err
		}
		ops = append(ops, clientv3.OpPut(inv.genKey(), ""))
		resp, err := inv.store.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(inv.genKey()), "=", snap.GenRev),
				clientv3.Compare(clientv3.Version(inv.activeKey()), "=", 0)).
			Then(ops...).
			Else(clientv3.OpGet(inv.activeKey())).
			Commit()
		if err != nil {
			return fmt.Errorf("writing the inventory: %w", err)
		}
		if resp.Succeeded {
			apply(snap)
			snap.GenRev = resp.Header.Revision
			return nil
		}
		if len(resp.Responses) > 0 && len(resp.Responses[0].GetResponseRange().Kvs) > 0 {
			return ErrImportInProgress
		}
		inv.snap = nil // someone else wrote: read again
	}
	return fmt.Errorf("writing the inventory: %w", store.ErrConflict)
}

// Mode says whether a put creates or updates.
type Mode int

// Modes of a put.
const (
	Upsert Mode = iota
	Create      // fails with store.ErrConflict if it exists
	Update      // fails with store.ErrNotFound if it does not
)

func checkMode[T any](m map[string]T, what, id string, mode Mode) error {
	_, exists := m[id]
	switch {
	case mode == Create && exists:
		return fmt.Errorf("%s %s already exists: %w", what, id, store.ErrConflict)
	case mode == Update && !exists:
		return fmt.Errorf("%s %s: %w", what, id, store.ErrNotFound)
	}
	return nil
}

func (inv *Inventory) putOp(kind, id string, v any) (clientv3.Op, error) {
	data, err := store.Encode(v)
	if err != nil {
		return clientv3.Op{}, err
	}
	return clientv3.OpPut(inv.store.Key(kind, id), string(data)), nil
}

// PutSite creates or updates a site.
func (inv *Inventory) PutSite(ctx context.Context, s Site, mode Mode) error {
	if errs := s.validate(); len(errs) > 0 {
		return &ValidationError{errs}
	}
	return inv.write(ctx, func(snap *Snapshot) ([]clientv3.Op, func(*Snapshot), error) {
		if err := checkMode(snap.Sites, "site", s.ID, mode); err != nil {
			return nil, nil, err
		}
		op, err := inv.putOp(store.KindSites, s.ID, s)
		if err != nil {
			return nil, nil, err
		}
		old, existed := snap.Sites[s.ID]
		ops, err := withAudit(ctx, inv, []clientv3.Op{op}, "site", s.ID, s.ID, old, existed, s)
		return ops, func(sn *Snapshot) { sn.Sites[s.ID] = s }, err
	})
}

// PutClassroom creates or updates a classroom.
func (inv *Inventory) PutClassroom(ctx context.Context, c Classroom, mode Mode) error {
	if errs := c.validate(); len(errs) > 0 {
		return &ValidationError{errs}
	}
	return inv.write(ctx, func(snap *Snapshot) ([]clientv3.Op, func(*Snapshot), error) {
		if err := checkMode(snap.Classrooms, "classroom", c.ID, mode); err != nil {
			return nil, nil, err
		}
		if _, ok := snap.Sites[c.Site]; !ok {
			return nil, nil, &ValidationError{[]string{fmt.Sprintf("unknown site %q", c.Site)}}
		}
		if old, ok := snap.Classrooms[c.ID]; ok && old.Site != c.Site {
			if users := snap.users("classroom", c.ID); len(users) > 0 {
				return nil, nil, &ValidationError{[]string{fmt.Sprintf("classroom %s holds %v: move them before moving it to another site", c.ID, users)}}
			}
		}
		op, err := inv.putOp(store.KindClassrooms, c.ID, c)
		if err != nil {
			return nil, nil, err
		}
		old, existed := snap.Classrooms[c.ID]
		ops, err := withAudit(ctx, inv, []clientv3.Op{op}, "classroom", c.ID, c.Site, old, existed, c)
		return ops, func(sn *Snapshot) { sn.Classrooms[c.ID] = c }, err
	})
}

// PutCart creates or updates a cart.
func (inv *Inventory) PutCart(ctx context.Context, c Cart, mode Mode) error {
	if errs := c.validate(); len(errs) > 0 {
		return &ValidationError{errs}
	}
	return inv.write(ctx, func(snap *Snapshot) ([]clientv3.Op, func(*Snapshot), error) {
		if err := checkMode(snap.Carts, "cart", c.ID, mode); err != nil {
			return nil, nil, err
		}
		if _, ok := snap.Sites[c.Site]; !ok {
			return nil, nil, &ValidationError{[]string{fmt.Sprintf("unknown site %q", c.Site)}}
		}
		var errs []string
		for _, u := range snap.Units {
			if u.Cart == c.ID && u.Slot > c.Slots {
				errs = append(errs, fmt.Sprintf("unit %s is in slot %d, beyond the new size %d", u.AssetTag, u.Slot, c.Slots))
			}
			if u.Cart == c.ID && u.PlacedAt() != c.Site {
				errs = append(errs, fmt.Sprintf("unit %s in it is at site %s", u.AssetTag, u.PlacedAt()))
			}
		}
		if len(errs) > 0 {
			return nil, nil, &ValidationError{errs}
		}
		op, err := inv.putOp(store.KindCarts, c.ID, c)
		if err != nil {
			return nil, nil, err
		}
		old, existed := snap.Carts[c.ID]
		ops, err := withAudit(ctx, inv, []clientv3.Op{op}, "cart", c.ID, c.Site, old, existed, c)
		return ops, func(sn *Snapshot) { sn.Carts[c.ID] = c }, err
	})
}

// PutUnit creates or updates a declared unit.
func (inv *Inventory) PutUnit(ctx context.Context, u Unit, mode Mode) error {
	if errs := u.Validate(); len(errs) > 0 {
		return &ValidationError{errs}
	}
	return inv.write(ctx, func(snap *Snapshot) ([]clientv3.Op, func(*Snapshot), error) {
		if err := checkMode(snap.Units, "unit", u.AssetTag, mode); err != nil {
			return nil, nil, err
		}
		errs := snap.checkRefs(u)
		if other := snap.slotTaken(u); other != "" {
			errs = append(errs, fmt.Sprintf("slot %d of cart %s already holds unit %s", u.Slot, u.Cart, other))
		}
		if len(errs) > 0 {
			return nil, nil, &ValidationError{errs}
		}
		op, err := inv.putOp(store.KindDeclared, u.AssetTag, u)
		if err != nil {
			return nil, nil, err
		}
		// A change of a unit's classroom, cart or assigned site is an
		// assignment: the audit entry keeps before and after.
		old, existed := snap.Units[u.AssetTag]
		ops, err := withAudit(ctx, inv, []clientv3.Op{op}, "unit", u.AssetTag, u.Site, old, existed, u)
		return ops, func(sn *Snapshot) { sn.Units[u.AssetTag] = u }, err
	})
}

// Delete removes a site, classroom, cart or unit ("site", "classroom",
// "cart", "unit"); something still in use is refused.
func (inv *Inventory) Delete(ctx context.Context, what, id string) error {
	kind := map[string]string{"site": store.KindSites, "classroom": store.KindClassrooms, "cart": store.KindCarts, "unit": store.KindDeclared}[what]
	return inv.write(ctx, func(snap *Snapshot) ([]clientv3.Op, func(*Snapshot), error) {
		var exists bool
		switch what {
		case "site":
			_, exists = snap.Sites[id]
		case "classroom":
			_, exists = snap.Classrooms[id]
		case "cart":
			_, exists = snap.Carts[id]
		case "unit":
			_, exists = snap.Units[id]
		}
		if !exists {
			return nil, nil, fmt.Errorf("%s %s: %w", what, id, store.ErrNotFound)
		}
		if what != "unit" {
			if users := snap.users(what, id); len(users) > 0 {
				return nil, nil, &ValidationError{[]string{fmt.Sprintf("%s %s is still used by %v", what, id, users)}}
			}
		}
		ops, err := inv.auditOps(ctx, what+".delete", what+"/"+id, "", nil, nil)
		if err != nil {
			return nil, nil, err
		}
		return append(ops, clientv3.OpDelete(inv.store.Key(kind, id))), func(sn *Snapshot) {
			switch what {
			case "site":
				delete(sn.Sites, id)
			case "classroom":
				delete(sn.Classrooms, id)
			case "cart":
				delete(sn.Carts, id)
			case "unit":
				delete(sn.Units, id)
			}
		}, nil
	})
}
