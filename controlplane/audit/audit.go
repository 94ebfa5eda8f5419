// Package audit is parc's append-only record of who changed what, and of
// who read personal data (borrower ids), as privacy law asks (Québec's Law
// 25, the GDPR). Entries are written, listed and, once older than the
// retention period, deleted; never changed.
//
// Two ways to write:
//   - a change that is one etcd transaction puts Log.Op into that
//     transaction, so the change and its trace land together or not at all;
//   - a read of personal data calls Log.RecordRead before answering, and
//     answers nothing when that fails: no personal data leaves without its
//     trace.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/parc-project/parc/controlplane/adminapi"
	"github.com/parc-project/parc/controlplane/auth"
	"github.com/parc-project/parc/controlplane/store"
)

// Entry is one audit entry; adminapi.AuditEntry is both its stored and
// its wire form.
type Entry = adminapi.AuditEntry

// Actions recorded by the server itself. Other areas name theirs the same
// way, area.verb ("loan.create", "loan.return").
const (
	ActionTokenCreate       = "token.create"
	ActionTokenRevoke       = "token.revoke"
	ActionEnrollTokenCreate = "enroll-token.create"
	ActionEnrollTokenRevoke = "enroll-token.revoke"
	ActionAgentEnroll       = "agent.enroll"
	ActionAgentRevoke       = "agent.revoke"
	ActionAgentRotate       = "agent.rotate-request"
	// ActionPersonalDataRead records that someone saw borrower ids.
	ActionPersonalDataRead = "personal-data.read"
)

// ActorSystem is the actor of what the server does on its own (retention).
const ActorSystem = "system"

// Bounds of an entry's free text, so an entry stays small whatever a
// caller passes.
const (
	maxDetail   = 1024
	maxSnapshot = 16 << 10
)

// Log writes and reads the audit log.
type Log struct {
	store *store.Store
	now   func() time.Time
}

// New returns the audit log kept in s.
func New(s *store.Store, now func() time.Time) *Log { return &Log{store: s, now: now} }

// Snapshot encodes v as an entry's Before or After. Pass a view without
// secrets or hashes: an audit entry is read by people.
func Snapshot(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		// Every view parc passes marshals; say so rather than lose the entry.
		return json.RawMessage(fmt.Sprintf("%q", "unencodable: "+err.Error()))
	}
	return data
}

// Op fills e's ID, Time and, from ctx's principal when e has none, Actor,
// and returns the write of e to commit in the transaction of the change it
// records.
func (l *Log) Op(ctx context.Context, e Entry) (clientv3.Op, error) {
	key, data, err := l.prepare(ctx, &e)
	if err != nil {
		return clientv3.Op{}, err
	}
	return clientv3.OpPut(key, string(data)), nil
}

// Record writes e alone: for what is not one etcd transaction.
func (l *Log) Record(ctx context.Context, e Entry) error {
	key, data, err := l.prepare(ctx, &e)
	if err != nil {
		return err
	}
	if _, err := l.store.Client.Put(ctx, key, string(data)); err != nil {
		return fmt.Errorf("writing audit entry %s %s: %w", e.Action, e.Object, err)
	}
	return nil
}

// RecordRead records that the caller (ctx's principal) read personal data:
// object names what ("borrower/s-0042", or "loans?site=ecole-a" for a
// list), detail how much ("12 loans with borrower ids"). Call it before
// answering; on error, answer with an error, not with the data.
func (l *Log) RecordRead(ctx context.Context, object, detail string) error {
	return l.Record(ctx, Entry{Action: ActionPersonalDataRead, Object: object, Detail: detail})
}

func (l *Log) prepare(ctx context.Context, e *Entry) (string, []byte, error) {
	if e.Action == "" || e.Object == "" {
		return "", nil, fmt.Errorf("audit entry without action or object: %+v", *e)
	}
	if e.Actor == "" {
		e.Actor = ActorSystem
		if p, ok := auth.PrincipalFrom(ctx); ok {
			e.Actor = p.Actor()
		}
	}
	if len(e.Detail) > maxDetail {
		e.Detail = e.Detail[:maxDetail] + "…"
	}
	for _, s := range []*json.RawMessage{&e.Before, &e.After} {
		if len(*s) > maxSnapshot {
			*s = Snapshot(fmt.Sprintf("%d bytes, not kept", len(*s)))
		}
	}
	e.Time = l.now().UTC()
	e.ID = timeKey(e.Time) + "-" + rand.Text()[:8]
	data, err := store.Encode(e)
	if err != nil {
		return "", nil, err
	}
	return l.store.Key(store.KindAudit, e.ID), data, nil
}

// timeKey formats t so that keys sort in time order: fixed width, UTC.
func timeKey(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }

// Filter selects entries. Zero fields select everything.
type Filter struct {
	// Since and Until bound the time (Until excluded).
	Since, Until time.Time
	// Actor matches a part of the actor, case-insensitively ("jdoe").
	Actor string
	// Action matches an action or an area: "loan" matches "loan.create".
	Action string
	// Object matches an object or a kind: "borrower" matches
	// "borrower/s-0042".
	Object string
	// After is the ID of the last entry of the previous page.
	After string
	// Limit is the most entries returned.
	Limit int
}

// maxScan bounds the entries one List reads: a filter matching little
// must not read a year of entries in one request. The page then ends
// early with a Next to continue from.
const maxScan = 50_000

// List returns the entries f selects, oldest first, and the cursor of the
// next page ("" at the end).
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, string, error) {
	prefix := l.store.Prefix(store.KindAudit)
	start := ""
	switch {
	case f.After != "":
		start = prefix + f.After
	case !f.Since.IsZero():
		// Just before the first key at Since: ListFrom starts after it.
		start = strings.TrimSuffix(prefix+timeKey(f.Since), "Z")
	}
	var end string
	if !f.Until.IsZero() {
		end = prefix + timeKey(f.Until)
	}
	var out []Entry
	var next, last string
	scanned := 0
	_, err := l.store.ListFrom(ctx, prefix, start, 0, func(kv store.KV) error {
		if end != "" && kv.Key >= end {
			return errStop
		}
		if scanned >= maxScan || (f.Limit > 0 && len(out) >= f.Limit) {
			next = strings.TrimPrefix(last, prefix)
			return errStop
		}
		scanned++
		last = kv.Key
		var e Entry
		if err := store.Decode(kv.Value, &e); err != nil {
			return fmt.Errorf("%s: %w", kv.Key, err)
		}
		if f.matches(e) {
			out = append(out, e)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, "", fmt.Errorf("listing the audit log: %w", err)
	}
	return out, next, nil
}

var errStop = errors.New("stop listing")

func (f Filter) matches(e Entry) bool {
	if f.Actor != "" && !strings.Contains(strings.ToLower(e.Actor), strings.ToLower(f.Actor)) {
		return false
	}
	if f.Action != "" && e.Action != f.Action && !strings.HasPrefix(e.Action, f.Action+".") {
		return false
	}
	if f.Object != "" && e.Object != f.Object && !strings.HasPrefix(e.Object, f.Object+"/") {
		return false
	}
	return true
}

// deleteChunk bounds one retention deletion: a range of a year of entries
// in a single etcd request would be one huge raft entry.
const deleteChunk = 1000

// DeleteBefore deletes every entry older than cutoff, in chunks, and
// returns how many. Deleting what is already gone is a no-op, so replicas
// running it at once do no harm.
func (l *Log) DeleteBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	prefix := l.store.Prefix(store.KindAudit)
	end := prefix + timeKey(cutoff)
	var total int64
	for {
		resp, err := l.store.Client.Get(ctx, prefix, clientv3.WithRange(end), clientv3.WithKeysOnly(), clientv3.WithLimit(deleteChunk))
		if err != nil {
			return total, fmt.Errorf("listing audit entries before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if len(resp.Kvs) == 0 {
			return total, nil
		}
		lastKey := string(resp.Kvs[len(resp.Kvs)-1].Key)
		del, err := l.store.Client.Delete(ctx, prefix, clientv3.WithRange(lastKey+"\x00"))
		if err != nil {
			return total, fmt.Errorf("deleting audit entries before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		total += del.Deleted
		if !resp.More {
			return total, nil
		}
	}
}
