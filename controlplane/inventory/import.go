package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/audit"
	"github.com/parc-project/parc/controlplane/store"
)

// ImportResult says what an import did, or would do (dry run), or why it
// did nothing.
type ImportResult struct {
	DryRun            bool         `json:"dry_run"`
	Rows              int          `json:"rows"`
	Created           int          `json:"created"`
	Updated           int          `json:"updated"`
	Unchanged         int          `json:"unchanged"`
	SitesCreated      []string     `json:"sites_created,omitempty"`
	ClassroomsCreated []string     `json:"classrooms_created,omitempty"`
	CartsCreated      []string     `json:"carts_created,omitempty"`
	Changes           []UnitChange `json:"changes,omitempty"`
	IgnoredColumns    []string     `json:"ignored_columns,omitempty"`
	// Errors lists every bad row; when there is any, nothing was imported.
	Errors []RowError `json:"errors,omitempty"`
}

// UnitChange is one unit an import creates or updates.
type UnitChange struct {
	AssetTag string   `json:"asset_tag"`
	Action   string   `json:"action"` // create, update
	Fields   []string `json:"fields,omitempty"`
}

// Progress reports how far an import is.
type Progress struct {
	Phase string `json:"phase"` // parsing, validating, applying, done
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// ImportOptions shape an import.
type ImportOptions struct {
	DryRun bool
	// By names who imports, for the journal.
	By string
	// Progress, if set, is called as the import moves on.
	Progress func(Progress)
}

// importChunk bounds the writes of one transaction, below etcd's default
// limit of 128 operations (an external cluster may keep that default).
const importChunk = 100

// staleImport is how long an import may go without a heartbeat before
// another replica decides its importer died and finishes or discards it.
const staleImport = 2 * time.Minute

// activeImport is the journal's head: which import holds the inventory.
type activeImport struct {
	ID        string    `json:"id"`
	State     string    `json:"state"` // staging, applying
	Chunks    int       `json:"chunks"`
	By        string    `json:"by,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Heartbeat time.Time `json:"heartbeat"`
}

type journalOp struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Import reads an inventory file and applies it all or nothing: a file with
// any bad row changes nothing and the result lists every bad row. A
// re-import of the same file changes nothing; a changed row updates its
// unit. Sites and classrooms the file names are created; a cart is created
// when the file gives its number of slots.
//
// An import larger than one etcd transaction is journalled: its writes are
// staged in etcd first, then applied; if the importing replica dies while
// applying, another replica (Recover) finishes it, so an import is never
// left half-applied. Other inventory writes wait while it runs.
func (inv *Inventory) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	progress := opt.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	progress(Progress{Phase: "parsing"})
	rows, rowErrs, ignored, err := ParseCSV(r)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{DryRun: opt.DryRun, Rows: len(rows) + len(rowErrs), IgnoredColumns: ignored}
	progress(Progress{Phase: "validating", Total: res.Rows})

	inv.mu.Lock()
	defer inv.mu.Unlock()
	var lock *importLock
	if !opt.DryRun {
		if lock, err = inv.acquire(ctx, opt.By); err != nil {
			return res, err
		}
		defer lock.release(context.WithoutCancel(ctx))
		inv.snap = nil // read what the inventory is now that nobody else can write it
	}
	snap, err := inv.snapshotLocked(ctx)
	if err != nil {
		return res, err
	}
	ops, err := inv.plan(rows, rowErrs, snap, &res)
	if err != nil || len(res.Errors) > 0 || opt.DryRun || len(ops) == 0 {
		progress(Progress{Phase: "done", Done: res.Rows, Total: res.Rows})
		return res, err
	}
	if err := lock.apply(ctx, ops, progress); err != nil {
		inv.snap = nil
		return res, err
	}
	inv.snap = nil
	if inv.Audit != nil {
		// An import spans several transactions; its entry follows the last.
		err := inv.Audit.Record(ctx, audit.Entry{Action: "inventory.import", Object: "inventory",
			Detail: fmt.Sprintf("%d created, %d updated, %d unchanged; changes: %s", res.Created, res.Updated, res.Unchanged, changeList(res.Changes))})
		if err != nil {
			inv.log.Error("inventory imported, but its audit entry could not be written", "err", err)
		}
	}
	progress(Progress{Phase: "done", Done: len(ops), Total: len(ops)})
	return res, nil
}

// changeList names changed units for an audit entry (which bounds its length).
func changeList(changes []UnitChange) string {
	var b strings.Builder
	for i, c := range changes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Action + " " + c.AssetTag)
		if b.Len() > 900 {
			fmt.Fprintf(&b, " and %d more", len(changes)-i-1)
			break
		}
	}
	return b.String()
}

// plan validates rows against the snapshot and returns the writes that
// make the inventory match the file; problems go to res.Errors.
func (inv *Inventory) plan(rows []Row, rowErrs []RowError, snap *Snapshot, res *ImportResult) ([]clientv3.Op, error) {
	res.Errors = append(res.Errors, rowErrs...)
	next := &Snapshot{Sites: maps.Clone(snap.Sites), Classrooms: maps.Clone(snap.Classrooms),
		Carts: maps.Clone(snap.Carts), Units: maps.Clone(snap.Units)}
	bad := func(row Row, format string, args ...any) {
		res.Errors = append(res.Errors, RowError{Line: row.Line, AssetTag: row.Unit.AssetTag, Message: fmt.Sprintf(format, args...)})
	}

	firstLine := map[string]int{}
	cartSize := map[string]int{}
	classroomSite := map[string]string{}
	for _, row := range rows {
		u := row.Unit
		if prev, dup := firstLine[u.AssetTag]; dup {
			bad(row, "asset tag %s already on line %d", u.AssetTag, prev)
			continue
		}
		firstLine[u.AssetTag] = row.Line
		for _, site := range []string{u.Site, u.AssignedSite} {
			if _, ok := next.Sites[site]; !ok && site != "" {
				next.Sites[site] = Site{ID: site}
				res.SitesCreated = append(res.SitesCreated, site)
			}
		}
		if u.Classroom != "" {
			if _, ok := next.Classrooms[u.Classroom]; !ok {
				next.Classrooms[u.Classroom] = Classroom{ID: u.Classroom, Site: u.PlacedAt()}
				classroomSite[u.Classroom] = u.PlacedAt()
				res.ClassroomsCreated = append(res.ClassroomsCreated, u.Classroom)
			}
		}
		if u.Cart != "" {
			c, exists := next.Carts[u.Cart]
			switch {
			case exists && row.CartSlots != 0 && row.CartSlots != c.Slots:
				bad(row, "cart %s has %d slots; this line says %d", u.Cart, c.Slots, row.CartSlots)
			case !exists && row.CartSlots == 0:
				bad(row, "unknown cart %s: give its number of slots in a cart_slots column, or create it first (parcctl carts create)", u.Cart)
			case !exists:
				cart := Cart{ID: u.Cart, Site: u.PlacedAt(), Kind: CartKindCart, Slots: row.CartSlots}
				if errs := cart.validate(); len(errs) > 0 {
					bad(row, "%s", errs[0])
					continue
				}
				next.Carts[u.Cart] = cart
				cartSize[u.Cart] = row.CartSlots
				res.CartsCreated = append(res.CartsCreated, u.Cart)
			}
		}
		next.Units[u.AssetTag] = u
	}
	// References and slots are checked once every row is in place, so the
	// order of lines does not matter.
	occupied := next.slots()
	for _, row := range rows {
		u := row.Unit
		if firstLine[u.AssetTag] != row.Line {
			continue
		}
		for _, p := range next.checkRefs(u) {
			bad(row, "%s", p)
		}
		if u.Cart != "" {
			if others := occupied[slotKey{u.Cart, u.Slot}]; len(others) > 1 {
				var rest []string
				for _, o := range others {
					if o != u.AssetTag {
						rest = append(rest, o)
					}
				}
				sort.Strings(rest)
				bad(row, "slot %d of cart %s also holds %v", u.Slot, u.Cart, rest)
			}
		}
	}
	if len(res.Errors) > 0 {
		sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
		res.SitesCreated, res.ClassroomsCreated, res.CartsCreated = nil, nil, nil
		return nil, nil
	}

	var ops []clientv3.Op
	put := func(kind, id string, v any) error {
		op, err := inv.putOp(kind, id, v)
		ops = append(ops, op)
		return err
	}
	var errs []error
	for _, id := range res.SitesCreated {
		errs = append(errs, put(store.KindSites, id, next.Sites[id]))
	}
	for _, id := range res.ClassroomsCreated {
		errs = append(errs, put(store.KindClassrooms, id, next.Classrooms[id]))
	}
	for _, id := range res.CartsCreated {
		errs = append(errs, put(store.KindCarts, id, next.Carts[id]))
	}
	for _, row := range rows {
		u := row.Unit
		old, exists := snap.Units[u.AssetTag]
		switch {
		case !exists:
			res.Created++
			res.Changes = append(res.Changes, UnitChange{AssetTag: u.AssetTag, Action: "create"})
		case old != u:
			res.Updated++
			res.Changes = append(res.Changes, UnitChange{AssetTag: u.AssetTag, Action: "update", Fields: changedFields(old, u)})
		default:
			res.Unchanged++
			continue
		}
		errs = append(errs, put(store.KindDeclared, u.AssetTag, u))
	}
	return ops, errors.Join(errs...)
}

func changedFields(a, b Unit) []string {
	var out []string
	for _, f := range []struct {
		name string
		x, y string
	}{
		{"serial", a.Serial, b.Serial}, {"model", a.Model, b.Model}, {"purchase_date", a.PurchaseDate, b.PurchaseDate},
		{"site", a.Site, b.Site}, {"role", a.Role, b.Role}, {"assigned_site", a.AssignedSite, b.AssignedSite},
		{"classroom", a.Classroom, b.Classroom}, {"cart", a.Cart, b.Cart}, {"slot", strconv.Itoa(a.Slot), strconv.Itoa(b.Slot)},
		{"hardware_uuid", a.HardwareUUID, b.HardwareUUID}, {"mac", a.MAC, b.MAC},
	} {
		if f.x != f.y {
			out = append(out, f.name)
		}
	}
	return out
}

// importLock is a held imports/active key.
type importLock struct {
	inv  *Inventory
	head activeImport
	rev  int64 // mod revision of imports/active as we last wrote it
}

func (inv *Inventory) acquire(ctx context.Context, by string) (*importLock, error) {
	now := inv.now().UTC()
	head := activeImport{ID: strconv.FormatInt(now.UnixNano(), 36), State: "staging", By: by, StartedAt: now, Heartbeat: now}
	data, err := store.Encode(head)
	if err != nil {
		return nil, err
	}
	resp, err := inv.store.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.Version(inv.activeKey()), "=", 0)).
		Then(clientv3.OpPut(inv.activeKey(), string(data))).
		Else(clientv3.OpGet(inv.activeKey())).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("starting the import: %w", err)
	}
	if !resp.Succeeded {
		var other activeImport
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			_ = store.Decode(kvs[0].Value, &other)
		}
		return nil, fmt.Errorf("%w: started %s by %s", ErrImportInProgress, other.StartedAt.Format(time.RFC3339), other.By)
	}
	return &importLock{inv: inv, head: head, rev: resp.Header.Revision}, nil
}

// write replaces imports/active if we still hold it.
func (l *importLock) update(ctx context.Context, extra ...clientv3.Op) error {
	l.head.Heartbeat = l.inv.now().UTC()
	data, err := store.Encode(l.head)
	if err != nil {
		return err
	}
	resp, err := l.inv.store.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(l.inv.activeKey()), "=", l.rev)).
		Then(append([]clientv3.Op{clientv3.OpPut(l.inv.activeKey(), string(data))}, extra...)...).
		Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return errors.New("import taken over by another replica (no heartbeat for too long)")
	}
	l.rev = resp.Header.Revision
	return nil
}

// apply stages the writes, then applies them chunk by chunk.
func (l *importLock) apply(ctx context.Context, ops []clientv3.Op, progress func(Progress)) error {
	inv := l.inv
	var chunks [][]clientv3.Op
	for start := 0; start < len(ops); start += importChunk {
		chunks = append(chunks, ops[start:min(start+importChunk, len(ops))])
	}
	for i, chunk := range chunks {
		journal := make([]journalOp, len(chunk))
		for j, op := range chunk {
			journal[j] = journalOp{Key: string(op.KeyBytes()), Value: string(op.ValueBytes())}
		}
		data, err := store.Encode(journal)
		if err != nil {
			return err
		}
		if _, err := inv.store.Client.Put(ctx, inv.store.Key(store.KindImports, l.head.ID, store.SeqKey(uint64(i))), string(data)); err != nil {
			return fmt.Errorf("staging the import: %w", err)
		}
	}
	l.head.State, l.head.Chunks = "applying", len(chunks)
	if err := l.update(ctx); err != nil {
		return fmt.Errorf("starting to apply the import: %w", err)
	}
	lastBeat := time.Now()
	done := 0
	for _, chunk := range chunks {
		if time.Since(lastBeat) > staleImport/4 {
			if err := l.update(ctx); err != nil {
				return err
			}
			lastBeat = time.Now()
		}
		resp, err := inv.store.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(inv.activeKey()), "=", l.rev)).
			Then(chunk...).Commit()
		if err != nil {
			// The journal stays: a replica's Recover finishes the import.
			return fmt.Errorf("applying the import (%d of %d writes done; it will be completed from its journal): %w", done, len(ops), err)
		}
		if !resp.Succeeded {
			return errors.New("import taken over by another replica (no heartbeat for too long)")
		}
		done += len(chunk)
		progress(Progress{Phase: "applying", Done: done, Total: len(ops)})
	}
	return l.finish(ctx)
}

// finish removes the journal and bumps the inventory generation, in one
// transaction that only the holder of imports/active can commit.
func (l *importLock) finish(ctx context.Context) error {
	inv := l.inv
	resp, err := inv.store.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(inv.activeKey()), "=", l.rev)).
		Then(clientv3.OpDelete(inv.activeKey()),
			clientv3.OpDelete(inv.store.Key(store.KindImports, l.head.ID)+"/", clientv3.WithPrefix()),
			clientv3.OpPut(inv.genKey(), "")).
		Commit()
	if err != nil {
		return fmt.Errorf("finishing the import: %w", err)
	}
	if !resp.Succeeded {
		return errors.New("import taken over by another replica (no heartbeat for too long)")
	}
	l.rev = 0
	return nil
}

// release gives up an import that applied nothing (errors, dry run, nothing
// to change).
func (l *importLock) release(ctx context.Context) {
	if l == nil || l.rev == 0 || l.head.State == "applying" {
		return // finished, or applying: then Recover completes it from the journal
	}
	inv := l.inv
	_, err := inv.store.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(inv.activeKey()), "=", l.rev)).
		Then(clientv3.OpDelete(inv.activeKey()),
			clientv3.OpDelete(inv.store.Key(store.KindImports, l.head.ID)+"/", clientv3.WithPrefix())).
		Commit()
	if err != nil {
		inv.log.Warn("could not release the import; it will be released when stale", "import", l.head.ID, "err", err)
	}
}

// Recover finishes an import whose importer died while applying it, and
// discards one that died before: the inventory is never left with half an
// import. Every replica runs it at start and then periodically.
func (inv *Inventory) Recover(ctx context.Context) error {
	var head activeImport
	rev, err := inv.store.Get(ctx, inv.activeKey(), &head)
	if errors.Is(err, store.ErrNotFound) {
		return inv.dropOrphanStaging(ctx, "")
	}
	if err != nil {
		return err
	}
	if inv.now().Sub(head.Heartbeat) < staleImport {
		return nil // alive
	}
	l := &importLock{inv: inv, head: head, rev: rev}
	if head.State != "applying" {
		inv.log.Warn("discarding an import whose importer stopped before applying it", "import", head.ID, "by", head.By)
		l.release(ctx)
		return nil
	}
	inv.log.Warn("finishing an import whose importer stopped while applying it", "import", head.ID, "by", head.By, "chunks", head.Chunks)
	var chunks [][]clientv3.Op
	_, err = inv.store.List(ctx, inv.store.Key(store.KindImports, head.ID)+"/", func(kv store.KV) error {
		var journal []journalOp
		if err := store.Decode(kv.Value, &journal); err != nil {
			return err
		}
		ops := make([]clientv3.Op, len(journal))
		for i, j := range journal {
			ops[i] = clientv3.OpPut(j.Key, j.Value)
		}
		chunks = append(chunks, ops)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the journal of import %s: %w", head.ID, err)
	}
	if len(chunks) != head.Chunks {
		return fmt.Errorf("journal of import %s has %d of %d chunks", head.ID, len(chunks), head.Chunks)
	}
	for _, chunk := range chunks {
		resp, err := inv.store.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(inv.activeKey()), "=", l.rev)).
			Then(chunk...).Commit()
		if err != nil {
			return fmt.Errorf("finishing import %s: %w", head.ID, err)
		}
		if !resp.Succeeded {
			return nil // another replica is finishing it
		}
	}
	if err := l.finish(ctx); err != nil {
		return err
	}
	inv.mu.Lock()
	inv.snap = nil
	inv.mu.Unlock()
	return nil
}

// dropOrphanStaging deletes staged chunks no active import owns (an
// importer that died between staging and recording itself).
func (inv *Inventory) dropOrphanStaging(ctx context.Context, keep string) error {
	var orphans []string
	_, err := inv.store.List(ctx, inv.store.Prefix(store.KindImports), func(kv store.KV) error {
		id := inv.store.IDFromKey(store.KindImports, kv.Key)
		if id != "active" && id != keep && !slices.Contains(orphans, id) {
			orphans = append(orphans, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range orphans {
		// Only if still no import is active: never race a new importer.
		if _, err := inv.store.Client.Txn(ctx).
			If(clientv3.Compare(clientv3.Version(inv.activeKey()), "=", 0)).
			Then(clientv3.OpDelete(inv.store.Key(store.KindImports, id)+"/", clientv3.WithPrefix())).
			Commit(); err != nil {
			return err
		}
	}
	return nil
}
